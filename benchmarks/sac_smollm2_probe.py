"""Why the quickstart's SAC is causal and keeps its first token: SmolLM2-135M continuation target NLL
(nats/token, 64-token contexts, 32-token continuations, 4x) of the baselines and of SAC variants, untrained
and after a short LM training, on the same held-out examples.

    python benchmarks/sac_smollm2_probe.py [--steps 40] [--examples 60] [--variants causal-first,bidirectional-first,causal]

Texts: CPython stdlib modules and Python docs reST sources (on disk), shuffled with a fixed seed; the first
200 continuation examples train, the next ``--examples`` are evaluated. Baselines keep the same budget as
SAC's context slots would (ceil(n / 4) tokens) after BOS, through the same batched decoder.
"""

from __future__ import annotations

import argparse
import random
import sysconfig
from pathlib import Path

import torch

from datacomp.compressors.decoding import nll_and_greedy, token_prefix, token_surprisal
from datacomp.compressors.registry import build_compressor
from datacomp.compressors.tasks import TaskDataConfig, document_examples
from datacomp.compressors.train import TrainConfig, train_compressor
from datacomp.evaluation.baselines import budget_tokens, kept_positions
from datacomp.models.gguf import dequantised_folder, smollm2_gguf_path

VARIANTS = {"causal-first": {"bidirectional": False, "keep_first_token": True},
            "bidirectional-first": {"bidirectional": True, "keep_first_token": True},
            "causal": {"bidirectional": False, "keep_first_token": False}}


def documents() -> list[tuple[str, str]]:
    code = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))[:300]
    docs = sorted(Path("/usr/share/doc/python3.11/html/_sources").rglob("*.rst.txt"))[:300]
    out = [(f"c{i}", p.read_text(errors="ignore")) for i, p in enumerate(code)]
    out += [(f"r{i}", p.read_text(errors="ignore")) for i, p in enumerate(docs)]
    random.Random(0).shuffle(out)
    return out


def mean(values) -> float:
    return sum(values) / len(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--examples", type=int, default=60)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder = dequantised_folder(smollm2_gguf_path(), name="smollm2-135m-instruct")
    options = {"ratio": 4, "max_context_tokens": 64, "max_target_tokens": 32, "pretrain_objective": "lm"}
    probe = build_compressor("sac", folder, folder, options)
    tokenizer, decoder = probe.tokenizer, probe.decoder
    config = TaskDataConfig(task="continuation", context_tokens=64, min_context_tokens=64, continuation_tokens=32)
    data = document_examples(documents(), tokenizer, config).examples
    train, held = data[:200], data[200:200 + args.examples]
    rows = probe.encode(held)
    batches = [range(s, min(s + 10, len(rows))) for s in range(0, len(rows), 10)]
    surprisal = [v for b in batches for v in token_surprisal(decoder, [rows[i].context_ids for i in b],
                                                            tokenizer.bos_token_id)]
    for system in ("full", "none", "truncate", "drop", "selective"):
        values = []
        for b in batches:
            kept = [kept_positions(system, len(rows[i].context_ids), budget_tokens(len(rows[i].context_ids), 4),
                                   f"0:{held[i].example_id}", surprisal[i]) for i in b]
            prefix = token_prefix(decoder, [[rows[i].context_ids[k] for k in ks] for i, ks in zip(b, kept)],
                                  tokenizer.bos_token_id)
            values += nll_and_greedy(decoder, prefix, [rows[i].prompt_ids for i in b], [rows[i].target_ids for i in b],
                                     0, None)[0]
        print(f"{system:24s} {mean(values):.3f}", flush=True)
    for name in args.variants.split(","):
        sac = build_compressor("sac", folder, folder, {**options, **VARIANTS[name]}).eval()
        evaluate = lambda: mean([p.target_nll for b in batches  # noqa: E731
                                 for p in sac.predict([rows[i] for i in b], 0)])
        untrained = evaluate()
        train_compressor(sac, train, TrainConfig(steps=args.steps, batch_size=4, learning_rate=1e-3, warmup_steps=5))
        print(f"sac {name:20s} untrained {untrained:.3f}  after {args.steps} steps {evaluate():.3f}", flush=True)


if __name__ == "__main__":
    main()
