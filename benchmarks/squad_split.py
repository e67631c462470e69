"""Split a SQuAD v1.1 file by article into train and eval files, so no context (or question) is in both.

    python benchmarks/squad_split.py ../shared/data/qa/squad-v1.1-dev_articles-00-23.json --eval-articles 4 \
        --out out/squad

writes ``train.json`` (the first articles) and ``eval.json`` (the last ``--eval-articles``), each a valid
SQuAD v1.1 file, and prints how many articles, paragraphs and questions each holds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def split_articles(squad: dict, eval_articles: int) -> tuple[dict, dict]:
    articles = squad.get("data")
    if not isinstance(articles, list) or len(articles) <= eval_articles or eval_articles < 1:
        raise SystemExit(f"error: need more than --eval-articles {eval_articles} articles in field 'data'")
    version = squad.get("version", "1.1")
    return ({"version": version, "data": articles[:-eval_articles]},
            {"version": version, "data": articles[-eval_articles:]})


def counts(squad: dict) -> str:
    paragraphs = [p for a in squad["data"] for p in a["paragraphs"]]
    return f"{len(squad['data'])} articles, {len(paragraphs)} paragraphs, {sum(len(p['qas']) for p in paragraphs)} questions"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("squad_file", type=Path)
    parser.add_argument("--eval-articles", type=int, default=4)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    try:
        squad = json.loads(args.squad_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise SystemExit(f"error: {args.squad_file}: {error}") from None
    train, evaluation = split_articles(squad, args.eval_articles)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("eval", evaluation)):
        (args.out / f"{name}.json").write_text(json.dumps(part), encoding="utf-8")
        print(f"{args.out / (name + '.json')}: {counts(part)}")


if __name__ == "__main__":
    main()
