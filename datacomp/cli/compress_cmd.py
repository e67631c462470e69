"""`datacomp train` (a compressor on a slice) and `datacomp evaluate` (it and the baselines, per example)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from datacomp.cli.common import (DEFAULT_DB, AddressOption, DbOption, EngineOption, GpusPerWorkerOption,
                                 JsonOption, WorkersOption, app, console, existing_store, print_json, print_table,
                                 ray_options)

TaskHelp = "reconstruction | continuation | qa | span-recall"
ThreadsOption = Annotated[Optional[int], typer.Option(
    "--threads", help="torch CPU threads (on a busy machine 1 can be several times faster) [default: torch's].")]


def _set_threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


@app.command("train")
def train(
    method: Annotated[str, typer.Option("--method", metavar="autoencoder|sac|comi|meanpool",
                                        help="Compressor family.")],
    ratio: Annotated[float, typer.Option("--ratio", metavar="R", help="Target compression ratio (context tokens "
                                         "per slot).")],
    encoder: Annotated[str, typer.Option("--encoder", metavar="MODEL", help="Encoder model: id, name or folder.")],
    decoder: Annotated[str, typer.Option("--decoder", metavar="MODEL", help="Decoder model: id, name or folder.")],
    train_slice: Annotated[str, typer.Option("--train-slice", metavar="SLICE", help="Slice (or corpus) to train on "
                                             "[required, except with --task qa without --pretrain-steps].")] = "",
    task: Annotated[Optional[str], typer.Option("--task", metavar="TASK", help=f"{TaskHelp} [default: continuation "
                                                "for autoencoder and sac, span-recall for comi and meanpool].")] = None,
    qa_file: Annotated[Optional[Path], typer.Option("--qa-file", metavar="FILE", help="SQuAD v1.1 .json or MRQA "
                                                    ".jsonl (--task qa).")] = None,
    steps: Annotated[int, typer.Option("--steps", help="Optimizer steps.")] = 200,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Examples per optimizer step.")] = 4,
    micro_batch: Annotated[str, typer.Option("--micro-batch", metavar="N|auto", help="Examples per forward/backward "
                                             "(gradients accumulate); 0 = the batch size; auto = the largest that "
                                             "fits.")] = "0",
    learning_rate: Annotated[Optional[float], typer.Option("--learning-rate", metavar="LR", help="Peak learning "
                                                           "rate [default: 1e-3 for models under 20M parameters, "
                                                           "else 1e-4].")] = None,
    schedule: Annotated[str, typer.Option("--schedule", metavar="constant|cosine", help="Learning rate after "
                                          "warmup.")] = "constant",
    dtype: Annotated[str, typer.Option("--dtype", metavar="auto|bf16|fp16|fp32", help="auto: bf16 on GPUs that "
                                       "support it, fp16 on older ones, fp32 on CPUs.")] = "auto",
    context_tokens: Annotated[Optional[int], typer.Option("--context-tokens", help="Decoder tokens per context "
                                                          "[default: the model's window, at most 512].")] = None,
    pretrain_steps: Annotated[int, typer.Option("--pretrain-steps", help="Steps on the slice's continuation "
                                                "data before the task (SAC's recipe).")] = 0,
    max_examples: Annotated[Optional[int], typer.Option("--max-examples", help="Cap on training examples.")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    method_config: Annotated[Optional[list[str]], typer.Option(
        "--method-config", metavar="KEY=VALUE", help="A key of the method's config, repeatable (e.g. "
        "--method-config decoder_lora=true).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="DIR", help="Folder for the compressor "
                                                "[default: <store folder>/compressors/ID].")] = None,
    threads: ThreadsOption = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Train a compressor on a slice, save it, record it in the store and print its id.

    Under torchrun (torchrun --nproc-per-node N -m datacomp train ...) the N processes train it together
    (DDP): --batch-size is the global batch, shared between them; rank 0 alone reads and writes the store."""
    import dataclasses

    from datacomp.api import train as train_compressor
    from datacomp.compressors.distributed import from_environment
    from datacomp.compressors.registry import parse_method_config
    from datacomp.compressors.training_run import TrainRunConfig

    _set_threads(threads)
    method_config = parse_method_config(method, method_config or [])
    config = TrainRunConfig(method=method, ratio=ratio, train_slice=train_slice, encoder=encoder, decoder=decoder,
                            task=task, qa_file=str(qa_file) if qa_file else None, steps=steps,
                            batch_size=batch_size, micro_batch=micro_batch, learning_rate=learning_rate,
                            schedule=schedule, dtype=dtype, context_tokens=context_tokens,
                            pretrain_steps=pretrain_steps,
                            max_examples=max_examples, seed=seed, out=str(out) if out else None,
                            method_config=method_config)
    distributed = from_environment()
    if not distributed.is_main:   # the store is rank 0's alone (DuckDB allows one writer)
        train_compressor(None, config, distributed=distributed)
        return
    with existing_store(db, read_only=False) as store:
        trained = train_compressor(store, config, distributed=distributed)
    if as_json:
        print_json(dataclasses.asdict(trained))
        return
    info = trained.train_info
    console.print(f"trained {trained.method} at {trained.ratio:g}x on {trained.train_slice} ({trained.task}, "
                  f"{info['examples']} examples, {info['steps']} steps, {info['seconds']:.1f}s, final loss "
                  f"{info['final_loss']:.4g}) -> {trained.checkpoint}", highlight=False)
    typer.echo(trained.compressor_id)


@app.command("evaluate")
def evaluate(
    compressor: Annotated[str, typer.Option("--compressor", metavar="ID", help="Compressor id, or none for the "
                                            "baselines only.")],
    slice_name: Annotated[Optional[str], typer.Option("--slice", metavar="SLICE", help="Slice (or corpus) to "
                                                      "evaluate on; with --task qa only a label (the questions "
                                                      "come from --qa-file).")] = None,
    task: Annotated[str, typer.Option("--task", metavar="TASK", help=TaskHelp)] = "reconstruction",
    qa_file: Annotated[Optional[Path], typer.Option("--qa-file", metavar="FILE", help="SQuAD v1.1 .json or MRQA "
                                                    ".jsonl (--task qa).")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", help="Examples to evaluate (0 = all).")] = 50,
    decoder: Annotated[Optional[str], typer.Option("--decoder", metavar="MODEL", help="Decoder for --compressor "
                                                   "none.")] = None,
    ratio: Annotated[Optional[float], typer.Option("--ratio", metavar="R", help="Budget ratio for --compressor none "
                                                   "[default: 4].")] = None,
    context_tokens: Annotated[Optional[int], typer.Option("--context-tokens", help="The context cap: tokens every "
                                                          "system reads at most, within the models' window "
                                                          "[default: qa 2048, else the compressor's, else 512].")] = None,
    max_new_tokens: Annotated[Optional[int], typer.Option("--max-new-tokens", help="Greedy tokens per answer "
                                                          "[default: per task].")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Examples per batch (results do not "
                                            "depend on it).")] = 8,
    dtype: Annotated[str, typer.Option("--dtype", metavar="auto|bf16|fp16|fp32", help="Precision of the "
                                       "models.")] = "auto",
    prompt_format: Annotated[str, typer.Option("--prompt-format", metavar="auto|plain|fewshot|chat|sac",
                                               help="For --compressor none (a compressor uses its own); auto = "
                                               "fewshot for qa, chat for span-recall when the tokenizer has a chat "
                                               "template; sac = SAC's official QA layout.")] = "auto",
    baselines: Annotated[str, typer.Option(
        "--baselines", metavar="NAME,...", help="Baselines to run beside the compressor, a subset of "
        "full,none,truncate,drop,selective ('' = none); gains need full and none.")] = "full,none,truncate,drop,selective",
    threads: ThreadsOption = None,
    engine: EngineOption = "in-process",
    address: AddressOption = None,
    workers: WorkersOption = 2,
    gpus_per_worker: GpusPerWorkerOption = 0.0,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Evaluate a compressor and the full/none/truncate/drop baselines per example into the store.

    --engine ray runs the batches on Ray workers (with GPU workers, --dtype auto means bf16)."""
    from datacomp.api import evaluate as evaluate_systems
    from datacomp.evaluation.runner import TASK_METRICS, EvalConfig

    _set_threads(threads)
    options = ray_options(engine, address, workers, gpus_per_worker)
    chosen = tuple(b.strip() for b in baselines.split(",") if b.strip())
    config = EvalConfig(compressor=compressor, decoder=decoder, slice=slice_name, task=task, baselines=chosen,
                        qa_file=str(qa_file) if qa_file else None, limit=limit or None,
                        context_tokens=context_tokens, ratio=ratio, max_new_tokens=max_new_tokens, seed=seed,
                        batch_size=batch_size, dtype=dtype, prompt_format=prompt_format)
    with existing_store(db, read_only=False) as store:
        summary = evaluate_systems(store, config, ray=options)
    if as_json:
        print_json(summary.to_json())
        return
    metrics = TASK_METRICS[summary.task]
    print_table(display_rows(summary, metrics),
                title=f"{summary.task} on {summary.eval_slice}: {summary.n_examples} examples, decoder "
                      f"{summary.decoder_id}, layout {summary.prompt_format}; scores x100 "
                      f"(gain = (x - none) / (full - none))")
    console.print(summary.context_note, highlight=False, soft_wrap=True)
    outside = summary.answer_outside_truncation
    if outside is not None:
        console.print(f"answer outside what truncate keeps: {outside['n']} of {outside['of']} questions "
                      f"(kept, not dropped)", highlight=False, soft_wrap=True)
    reasons = {(m, r) for s in summary.systems for m, r in s.gain_reasons.items() if m in metrics}
    for metric, reason in sorted(reasons):
        console.print(f"[dim]gain of {metric} undefined: {reason}[/]", highlight=False, soft_wrap=True)
    if summary.paired:
        print_table(paired_rows(summary.paired),
                    title="paired differences A - B on the same examples (x100; 95% paired-bootstrap CI, "
                          "Wilcoxon signed-rank p)")
    if summary.skipped:
        console.print(f"skipped examples: {summary.skipped}", highlight=False, soft_wrap=True)
    for reason, ids in summary.skipped_ids.items():
        console.print(f"skipped ({reason}): {', '.join(ids)}", highlight=False, soft_wrap=True)
    console.print(f"eval_id {summary.eval_id}, run {summary.run_id}, {summary.n_rows_written} rows written",
                  highlight=False, soft_wrap=True)


def paired_rows(paired) -> list[dict[str, str]]:
    """One line per comparison: the difference with its CI and p, and what it supports."""
    rows = []
    for c in paired:
        if c["mean"] is None:
            continue
        ci = "-" if c["ci_low"] is None else f"[{100 * c['ci_low']:+.2f}, {100 * c['ci_high']:+.2f}]"
        verdict = "not significant (CI includes 0)"
        if c["excludes_zero"]:
            verdict = f"{c['a']} higher" if c["mean"] > 0 else f"{c['b']} higher"
        rows.append({"A": c["a"], "B": c["b"], "metric": c["metric"], "A - B": f"{100 * c['mean']:+.2f}",
                     "95% CI": ci, "p": "-" if c["p_wilcoxon"] is None else f"{c['p_wilcoxon']:.2g}",
                     "n": str(c["n"]), "reading": verdict})
    return rows


def display_rows(summary, metrics) -> list[dict[str, str]]:
    """Compact cells for a terminal: score x100 with its gain in brackets, latency in ms, memory in KiB."""
    def fmt(value, pattern):
        return "-" if value is None else pattern.format(value)

    rows = []
    for scores in summary.systems:
        row = {"system": scores.system, "n": str(scores.n_examples), "ratio": fmt(scores.ratio_actual, "{:.1f}")}
        for metric in metrics:
            row[metric] = fmt(scores.means.get(metric), "{:.1f}") if scores.means.get(metric) is None else \
                f"{100 * scores.means[metric]:.1f} ({fmt(scores.gains.get(metric), '{:+.2f}')})"
        row["comp ms"] = fmt(scores.compress_ms, "{:.1f}")
        row["dec ms"] = fmt(scores.decode_ms, "{:.0f}")
        row["KiB"] = fmt(None if scores.memory_bytes is None else scores.memory_bytes / 1024, "{:.1f}")
        rows.append(row)
    return rows
