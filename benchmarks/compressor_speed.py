"""Training speed (optimizer steps per second) of every compressor method on one model.

    python benchmarks/compressor_speed.py MODEL_DIR [--steps 20] [--batch-size 4] [--context 128]
        [--qa-file ../shared/data/qa/squad-v1.1-dev_articles-00-23.json] [--threads 1]

Contexts are SQuAD paragraphs cut to ``--context`` decoder tokens; the autoencoder trains reconstruction,
SAC continuation, COMI and meanpool QA (each method's default first task). Encoder = decoder = MODEL_DIR.
Prints one line per method: steps/s, seconds, the mean loss of the first and of the last 10 steps.
"""

from __future__ import annotations

import argparse
import json
import time
from statistics import mean

import torch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--context", type=int, default=128)
    parser.add_argument("--ratio", type=float, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--qa-file", default="../shared/data/qa/squad-v1.1-dev_articles-00-23.json")
    parser.add_argument("--methods", default="autoencoder,sac,comi,meanpool")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--option", action="append", default=[], help="method config key=JSON value")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from datacomp.compressors.example import TaskExample
    from datacomp.compressors.registry import build_compressor
    from datacomp.compressors.train import TrainConfig, train_compressor

    data = json.load(open(args.qa_file))["data"]
    paragraphs = [p for article in data for p in article["paragraphs"]][:64]
    task_of = {"autoencoder": "reconstruction", "sac": "continuation", "comi": "qa", "meanpool": "qa"}
    for method in args.methods.split(","):
        options = {key: json.loads(value) for key, value in (o.split("=", 1) for o in args.option)}
        compressor = build_compressor(method, args.model, args.model,
                                      {"ratio": args.ratio, "max_context_tokens": args.context,
                                       "max_target_tokens": args.context, **options})
        tokenizer = compressor.tokenizer
        examples = []
        for i, paragraph in enumerate(paragraphs):
            ids = tokenizer(paragraph["context"], add_special_tokens=False)["input_ids"]
            context = tokenizer.decode(ids[: args.context])
            qa = paragraph["qas"][0]
            task = task_of[method]
            if task == "reconstruction":
                examples.append(TaskExample(f"r{i}", task, context, "\nRestate the text:\n", context))
            elif task == "continuation":
                cut = min(args.context, len(ids) - 32)  # leave 32 tokens to continue with
                examples.append(TaskExample(f"c{i}", task, tokenizer.decode(ids[:cut]), "",
                                            tokenizer.decode(ids[cut:cut + 32])))
            else:
                examples.append(TaskExample(f"q{i}", task, context,
                                            f"\n### Question:\n{qa['question']}\n### Answer:\n",
                                            qa["answers"][0]["text"]))
        began = time.perf_counter()
        result = train_compressor(compressor, examples, TrainConfig(steps=args.steps, batch_size=args.batch_size,
                                                                    learning_rate=args.lr, warmup_steps=2))
        seconds = time.perf_counter() - began
        trainable = sum(p.numel() for p in compressor.parameters() if p.requires_grad)
        print(f"{method:12s} {task_of[method]:14s} steps/s {args.steps / seconds:6.2f}  ({seconds:.1f} s for "
              f"{args.steps} steps x {args.batch_size} examples; trainable params {trainable:,}; "
              f"mean loss of the first/last 10 steps {mean(result.losses[:10]):.3f} -> "
              f"{mean(result.losses[-10:]):.3f})", flush=True)


if __name__ == "__main__":
    main()
