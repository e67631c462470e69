"""`datacomp train` (a compressor on a slice) and `datacomp evaluate` (it and the baselines, per example)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from datacomp.cli.common import (DEFAULT_DB, AddressOption, DbOption, EngineOption, GpusPerWorkerOption,
                                 JsonOption, ThreadsOption, WorkersOption, app, console, existing_store, print_json,
                                 print_table, ray_options, set_threads)
from datacomp.compressors.registry import method_choices

TaskHelp = "reconstruction | continuation | qa | span-recall"


@app.command("train")
def train(
    method: Annotated[str, typer.Option("--method", metavar=method_choices(), help="Compressor family.")],
    ratio: Annotated[float, typer.Option("--ratio", metavar="R", help="Target compression ratio (context tokens "
                                         "per slot).")],
    encoder: Annotated[str, typer.Option("--encoder", metavar="MODEL", help="Encoder model: id, name or folder.")],
    decoder: Annotated[str, typer.Option("--decoder", metavar="MODEL", help="Decoder model: id, name or folder.")],
    train_slice: Annotated[str, typer.Option("--train-slice", metavar="SLICE", help="Slice (or corpus) to train on "
                                             "[required, except with --task qa without --pretrain-steps].")] = "",
    task: Annotated[Optional[str], typer.Option("--task", metavar="TASK", help=f"{TaskHelp} [default: the method's "
                                                "own (continuation for most, span-recall for query-aware ones)].")] = None,
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
    dtype: Annotated[str, typer.Option("--dtype", metavar="auto|fp32|bf16|fp16", help="auto: bf16 on GPUs that "
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

    set_threads(threads)
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
    dtype: Annotated[str, typer.Option("--dtype", metavar="auto|fp32|bf16|fp16", help="Precision of the "
                                       "models.")] = "auto",
    prompt_format: Annotated[str, typer.Option("--prompt-format", metavar="auto|plain|fewshot|chat|sac",
                                               help="For --compressor none (a compressor uses its own); auto = "
                                               "fewshot for qa, chat for span-recall when the tokenizer has a chat "
                                               "template; sac = SAC's official QA layout.")] = "auto",
    baselines: Annotated[str, typer.Option(
        "--baselines", metavar="NAME,...", help="Baselines to run beside the compressor, a subset of "
        "full,none,truncate,drop,selective and the training-free systems streamingllm,knorm,snapkv,tova (KV "
        "presses), llmlingua,llmlingua2 (prompt compressors; pip install 'datacomp[peers]') ('' = none); gains "
        "need full and none.")] = "full,none,truncate,drop,selective",
    llmlingua_model: Annotated[Optional[str], typer.Option(
        "--llmlingua-model", metavar="MODEL", help="Registered causal LM that llmlingua scores tokens with "
        "[default: the decoder].")] = None,
    llmlingua2_model: Annotated[Optional[Path], typer.Option(
        "--llmlingua2-model", metavar="FOLDER", help="Local token-classification model folder for "
        "llmlingua2.")] = None,
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
    from datacomp.evaluation.runner import EvalConfig

    set_threads(threads)
    options = ray_options(engine, address, workers, gpus_per_worker)
    chosen = tuple(b.strip() for b in baselines.split(",") if b.strip())
    config = EvalConfig(compressor=compressor, decoder=decoder, slice=slice_name, task=task, baselines=chosen,
                        qa_file=str(qa_file) if qa_file else None, limit=limit or None,
                        context_tokens=context_tokens, ratio=ratio, max_new_tokens=max_new_tokens, seed=seed,
                        batch_size=batch_size, dtype=dtype, prompt_format=prompt_format,
                        llmlingua_model=llmlingua_model,
                        llmlingua2_model=str(llmlingua2_model) if llmlingua2_model else None)
    with existing_store(db, read_only=False) as store:
        summary = evaluate_systems(store, config, ray=options)
    if as_json:
        print_json(summary.to_json())
        return
    print_summary(summary)


def print_summary(summary) -> None:
    """The terminal summary: scores, the gains that are defined, the paired differences, the counts."""
    from datacomp.evaluation.runner import TASK_METRICS

    metrics = TASK_METRICS[summary.task]
    print_table(display_rows(summary, metrics),
                title=f"{summary.task} on {summary.eval_slice}: {summary.n_examples} examples, decoder "
                      f"{summary.decoder_id}, layout {summary.prompt_format}; scores x100")
    console.print(summary.context_note, highlight=False, soft_wrap=True)
    outside = summary.answer_outside_truncation
    if outside is not None:
        console.print(f"answer outside what truncate keeps: {outside['n']} of {outside['of']} questions "
                      f"(kept, not dropped)", highlight=False, soft_wrap=True)
    gains = gain_rows(summary, metrics)
    if gains:
        print_table(gains, title="compression gain (x - none) / (full - none) on the same examples (95% paired "
                                 "BCa CI; only where full - none is above 0 by its paired CI)")
    reasons = {(m, r) for s in summary.systems for m, r in s.gain_reasons.items() if m in metrics}
    for metric, reason in sorted(reasons):
        console.print(f"[dim]gain of {metric} not computed: {reason}[/]", highlight=False, soft_wrap=True)
    if summary.paired:
        print_table(paired_rows(summary.paired),
                    title="paired differences A - B on the same examples (x100; 95% BCa bootstrap CI resampling "
                          "documents, and its p, as in the report)")
    if summary.skipped:
        console.print(f"skipped examples: {summary.skipped}", highlight=False, soft_wrap=True)
    for reason, ids in summary.skipped_ids.items():   # the first ten; --json lists them all
        more = f" ... and {len(ids) - 10} more (--json lists them all)" if len(ids) > 10 else ""
        console.print(f"skipped ({reason}, {len(ids)}): {', '.join(ids[:10])}{more}", highlight=False,
                      soft_wrap=True)
    console.print(f"eval_id {summary.eval_id}, run {summary.run_id}, {summary.n_rows_written} rows written",
                  highlight=False, soft_wrap=True)


def paired_rows(paired) -> list[dict[str, str]]:
    """One line per comparison: the difference with its CI and the bootstrap p that agrees with it, and
    what it supports (the report's own p and reading: analysis/render_results.py)."""
    from datacomp.analysis.render_results import comparison_reading, p_text

    rows = []
    for c in paired:
        if c["mean"] is None:
            continue
        ci = "-" if c["ci_low"] is None else f"[{100 * c['ci_low']:+.2f}, {100 * c['ci_high']:+.2f}]"
        rows.append({"A": c["a"], "B": c["b"], "metric": c["metric"], "A - B": f"{100 * c['mean']:+.2f}",
                     "95% CI": ci, "p": p_text(c), "n": str(c["n"]), "reading": comparison_reading(c)})
    return rows


def gain_rows(summary, metrics) -> list[dict[str, str]]:
    """The compressor's and the budgeted baselines' gains that are defined (full - none significant)."""
    from datacomp.analysis.formatting import fmt_ci, fmt_pct
    from datacomp.evaluation.baselines import is_baseline, is_budgeted

    rows = []
    for scores in summary.systems:
        if is_baseline(scores.system) and not is_budgeted(scores.system):
            continue
        for metric in metrics:
            gain = scores.gains.get(metric)
            if gain is None:
                continue
            low, high = scores.gain_intervals.get(metric, (None, None))
            ci = "-" if low is None else fmt_ci(100 * low, 100 * high) + "%"   # as the report prints gains
            rows.append({"system": scores.system, "metric": metric, "gain": fmt_pct(gain), "95% CI": ci,
                         "n": str(scores.n_examples)})
    return rows


def display_rows(summary, metrics) -> list[dict[str, str]]:
    """Compact cells for a terminal: score x100, latency in ms, memory in KiB (gains: ``gain_rows``)."""
    def fmt(value, pattern):
        return "-" if value is None else pattern.format(value)

    rows = []
    for scores in summary.systems:
        row = {"system": scores.system, "n": str(scores.n_examples), "ratio": fmt(scores.ratio_actual, "{:.1f}"),
               "unit": scores.budget_unit}
        for metric in metrics:
            value = scores.means.get(metric)
            row[metric] = fmt(None if value is None else 100 * value, "{:.1f}")
        row["comp ms"] = fmt(scores.compress_ms, "{:.1f}")
        row["dec ms"] = fmt(scores.decode_ms, "{:.0f}")
        row["KiB"] = fmt(None if scores.memory_bytes is None else scores.memory_bytes / 1024, "{:.1f}")
        rows.append(row)
    return rows
