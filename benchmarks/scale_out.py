"""Scale-out overhead: the same corpus scored in-process and with `--engine ray` at 1 and 2 workers, side by
side in one run (ratios against the in-process engine), and the fixed cost of a Ray run.

Every run scores the same documents (slices of the standard library's sources, as score_throughput.py) under
an encoder and a decoder with their gap, into a fresh copy of the same store, and must store the same rows
(checked to 1e-6). Timings are wall seconds of the whole command as a user sees it:
  in-process   model loading + scoring + writing (torch with --threads threads)
  ray N        a Ray run on an already started local instance: the actors start and load the models, score,
               write Parquet shards, and the driver imports them (each actor runs one torch thread)
and separately: starting the local Ray instance (paid once per command without --address), and a Ray run
of 8 documents (the fixed cost of any Ray run: actor start, model load, shard write and import).

    python benchmarks/scale_out.py                          # ~1M-param reference-size pair, 400 documents
    python benchmarks/scale_out.py --docs 2000 --threads 2
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DATACOMP_PROGRESS", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

import torch  # noqa: E402
from score_throughput import resolve_model_folder, stdlib_documents  # noqa: E402

from datacomp.models.registry import resolve_model  # noqa: E402
from datacomp.ray_jobs import RayOptions  # noqa: E402
from datacomp.scoring import ScoreConfig, score_corpus  # noqa: E402
from datacomp.scoring.ray_engine import score_corpus_ray  # noqa: E402
from datacomp.store import open_store  # noqa: E402


def base_store(work: Path, texts: list[str], folders: list[Path]) -> Path:
    db = work / "base.duckdb"
    with open_store(db) as store:
        for i, text in enumerate(texts):
            store.run("scoring/fixture_document", {"doc_id": f"doc{i:06d}", "corpus": "bench", "domain": "code",
                                                   "text": text, "source": f"bench:{i}"})
        for folder in folders:
            resolve_model(store, folder)
    return db


def timed(base: Path, work: Path, tag: str, score) -> tuple[float, object, Path]:
    db = work / f"{tag}.duckdb"
    shutil.copy(base, db)
    with open_store(db) as store:
        start = time.perf_counter()
        summary = score(store)
        seconds = time.perf_counter() - start
    return seconds, summary, db


def stored(db: Path) -> dict:
    with open_store(db, read_only=True) as store:
        return {(d, m): (s, e) for d, m, s, e in store.con.execute(
            "SELECT doc_id, model_id, surprisal_mean, entropy_mean FROM scores").fetchall()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=400)
    parser.add_argument("--min-chars", type=int, default=200)
    parser.add_argument("--max-chars", type=int, default=4000)
    parser.add_argument("--window", type=int, default=128)
    parser.add_argument("--stride", type=int, default=64)
    parser.add_argument("--model", default="reference", help="reference (a random ~1M-param pair) or a folder")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the in-process run")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    texts = stdlib_documents(args.docs, args.min_chars, args.max_chars, args.seed)
    work = Path(tempfile.mkdtemp(prefix="scale_out_"))
    try:
        folders = [resolve_model_folder(args.model, work, texts, seed) for seed in (1, 2)]
        base = base_store(work, texts, folders)
        config = ScoreConfig(corpora=["bench"], encoder=str(folders[0]), decoder=str(folders[1]),
                             window=args.window, stride=args.stride)

        import ray

        start = time.perf_counter()
        ray.init(address="local", num_cpus=3, include_dashboard=False, logging_level="WARNING")
        ray_start = time.perf_counter() - start
        (work / "tiny").mkdir()
        tiny = base_store(work / "tiny", texts[:8], folders)
        rows, fixed = {}, {}
        seconds, summary, db = timed(base, work, "in_process", lambda s: score_corpus(s, config))
        rows["in-process"] = (seconds, summary, stored(db))
        for workers in (1, 2):
            name = f"ray, {workers} worker{'s' if workers > 1 else ''}"
            options = RayOptions(workers=workers)
            seconds, summary, db = timed(base, work, f"ray{workers}", lambda s: score_corpus_ray(s, config, options))
            rows[name] = (seconds, summary, stored(db))
            fixed[name] = timed(tiny, work, f"tiny{workers}", lambda s: score_corpus_ray(s, config, options))[0]
        ray.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    reference = rows["in-process"][2]
    for name, (_, _, values) in rows.items():
        assert values.keys() == reference.keys(), name
        worst = max(abs(a - b) for key in reference for a, b in zip(values[key], reference[key]))
        assert worst <= 1e-6, (name, worst)
    in_process = rows["in-process"][0]
    tokens = rows["in-process"][1].tokens_scored
    print(f"{args.docs} documents, {tokens} tokens per model, encoder + decoder + gap, window {args.window}, "
          f"stride {args.stride}; torch {torch.__version__}, ray {ray.__version__}, {os.cpu_count()} CPUs; "
          f"every engine stored the same rows (to 1e-6)")
    print()
    print("| engine | wall s | tokens/s | vs in-process |")
    print("|---|---|---|---|")
    for name, (seconds, _, _) in rows.items():
        print(f"| {name} | {seconds:.1f} | {tokens / seconds:.0f} | {in_process / seconds:.2f}x |")
    print()
    print(f"starting the local Ray instance: {ray_start:.1f} s (once per command without --address)")
    print()
    print("| engine | a run of 8 documents (fixed cost) | the corpus beyond it | tokens/s beyond it |")
    print("|---|---|---|---|")
    for name, cost in fixed.items():
        beyond = rows[name][0] - cost
        rate = tokens / beyond if beyond > 0 else math.inf
        print(f"| {name} | {cost:.1f} s | {beyond:.1f} s | {rate:.0f} |")


if __name__ == "__main__":
    main()
