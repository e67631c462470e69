"""Per-example evaluation of a compressor and the text baselines, into the ``evaluations`` table.

For every example: the compressor (if any) compresses the context and its decoder answers greedily after
the prompt; then each baseline (baselines.py) runs on the plain decoder with the same prompt and the same
token budget (the compressor's slot count on that example, else ceil(n / r)). Each (system, example) gets
one row: EM, F1, sentence BLEU of the extracted answer (tasks.extract_answer) against the gold answers /
the target, the actual ratio (context tokens / slots, decoder tokenizer), memory bytes handed to the
decoder, compression and decoding latency.

An evaluation's identity ``eval_id`` hashes everything that decides its rows (compressor, decoder, task,
example source and construction, budget, decoding) but not ``limit``: re-running skips the rows already
stored (no duplicates; an interrupted evaluation resumes), and a larger ``limit`` only adds examples.
Rows of one example are written in one transaction.

The summary aggregates per system: mean EM/F1/BLEU, corpus BLEU, mean ratio, latency and bytes, and the
compression gain (system - none) / (full - none) of each metric (None with a reason when full == none).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from datacomp.compressors.example import TaskExample
from datacomp.errors import DatacompError
from datacomp.evaluation.baselines import (
    BASELINES,
    baseline_input,
    budget_tokens,
    embedding_bytes,
    greedy_decode,
    kept_positions,
    start_token_id,
    target_nll,
)
from datacomp.evaluation.latency import Stopwatch, to_ms
from datacomp.evaluation.metrics import (
    compression_gain,
    corpus_bleu,
    exact_match_max,
    sentence_bleu,
    token_f1_max,
)

METRICS = ("em", "f1", "bleu", "corpus_bleu", "target_nll")  # gain of target_nll: share of the nats recovered
# The metrics each task is judged by (all are stored; these are the ones the summary table shows).
TASK_METRICS = {
    "reconstruction": ("f1", "bleu", "corpus_bleu"),
    "continuation": ("f1", "bleu", "corpus_bleu"),
    "qa": ("em", "f1"),
    "span-recall": ("em", "f1"),
}


@dataclasses.dataclass
class EvalConfig:
    compressor: str = "none"          # a compressor_id from `compressors`, or "none" for the baselines only
    decoder: str | None = None        # model id/name/path; needed with "none", else the compressor's decoder
    slice: str | None = None          # slice (or corpus) name for document tasks; a label for qa
    task: str = "reconstruction"
    qa_file: str | None = None        # SQuAD v1.1 .json or MRQA .jsonl for task qa
    limit: int | None = 50            # examples evaluated (a prefix, in slice order): CPU-sized default
    context_tokens: int | None = None  # default: the compressor's max_context_tokens, else 128
    ratio: float | None = None        # budget ratio with compressor "none" (default 4); else the compressor's
    baselines: tuple[str, ...] = BASELINES
    max_new_tokens: int | None = None  # default per task, see default_max_new_tokens
    span_words: int = 8               # span-recall construction (compressors/tasks.py)
    answer_words: int = 4
    continuation_tokens: int = 32
    windows_per_document: int = 1
    seed: int = 0                     # span positions and the drop baseline's subsets


def default_max_new_tokens(task: str, context_tokens: int, config: EvalConfig) -> int:
    """Enough tokens for the answer and no more (greedy decoding is the main CPU cost)."""
    if task == "reconstruction":
        return context_tokens + 8     # the whole context, plus slack for a different tokenisation
    if task == "continuation":
        return config.continuation_tokens
    if task == "qa":
        return 20                     # COMI's setting (METHODS.md section 3)
    return 6 * config.answer_words    # span-recall: small BPE vocabularies spend several tokens per word


@dataclasses.dataclass
class EvalSetup:
    """Everything resolved and loaded: what ``run_evaluation`` needs (tests build it with a fake compressor)."""

    decoder: Any                       # the plain decoder LM (baselines)
    tokenizer: Any                     # the decoder's tokenizer
    decoder_id: str
    examples: list[TaskExample]
    context_tokens: int
    ratio: float
    eval_slice: str | None
    compressor: Any = None             # a compressors.base.Compressor (predict / compress / generate)
    compressor_id: str | None = None
    method: str | None = None
    skipped: dict[str, int] = dataclasses.field(default_factory=dict)
    source_hash: str | None = None     # content hash of the QA file, if any


@dataclasses.dataclass
class SystemScores:
    system: str
    method: str
    n_examples: int
    means: dict[str, float | None]     # em, f1, bleu (per-example means), corpus_bleu
    gains: dict[str, float | None]
    gain_reasons: dict[str, str]
    ratio_actual: float | None
    n_slots: float | None
    memory_bytes: float | None
    compress_ms: float | None
    decode_ms: float | None


@dataclasses.dataclass
class EvalSummary:
    eval_id: str
    run_id: str
    task: str
    eval_slice: str | None
    compressor_id: str | None
    decoder_id: str
    n_examples: int
    n_rows_written: int
    skipped: dict[str, int]
    systems: list[SystemScores]

    def table_rows(self) -> list[dict[str, Any]]:
        """One row per system: the task's metrics with their gains, ratio, latency and bytes."""
        rows = []
        for scores in self.systems:
            row: dict[str, Any] = {"system": scores.system, "n": scores.n_examples,
                                   "ratio": scores.ratio_actual}
            for metric in TASK_METRICS[self.task]:
                row[metric] = scores.means.get(metric)
                row[f"gain_{metric}"] = scores.gains.get(metric)
            row["target_nll"] = scores.means.get("target_nll")
            row.update({"compress_ms": scores.compress_ms, "decode_ms": scores.decode_ms,
                        "memory_bytes": scores.memory_bytes})
            rows.append(row)
        return rows

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ---------------------------------------------------------------- identity
def file_hash(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def evaluation_id(config: EvalConfig, setup: EvalSetup, max_new_tokens: int) -> str:
    """Hash of what decides the rows (not ``limit``: a prefix of the same examples)."""
    from datacomp.store.runs import config_hash

    return "eval-" + config_hash({
        "compressor": setup.compressor_id, "decoder": setup.decoder_id, "task": config.task,
        "source": setup.eval_slice, "source_hash": setup.source_hash, "context_tokens": setup.context_tokens,
        "ratio": setup.ratio, "baselines": list(config.baselines), "max_new_tokens": max_new_tokens,
        "span_words": config.span_words, "answer_words": config.answer_words,
        "continuation_tokens": config.continuation_tokens,
        "windows_per_document": config.windows_per_document, "seed": config.seed,
    })


# ---------------------------------------------------------------- one example
@dataclasses.dataclass
class Output:
    """One system's answer on one example, before scoring."""

    system: str
    method: str
    text: str
    n_context_tokens: int
    n_slots: int
    memory_bytes: int
    compress_ms: float
    decode_ms: float
    target_nll: float | None = None
    target_ids: list[int] | None = None   # what target_nll scored (compressors: their own encoded target)


def score_output(example: TaskExample, output: Output, answer_words: int) -> dict[str, Any]:
    from datacomp.compressors.tasks import extract_answer

    prediction = extract_answer(example.task, output.text, answer_words)
    return {
        "prediction": prediction,
        "em": exact_match_max(prediction, example.answers),
        "f1": token_f1_max(prediction, example.answers),
        "bleu": sentence_bleu(prediction, example.target),
        "ratio_actual": (output.n_context_tokens / output.n_slots) if output.n_slots else None,
    }


def compressor_output(setup: EvalSetup, example: TaskExample, max_new_tokens: int) -> Output:
    prediction = setup.compressor.predict(example, max_new_tokens=max_new_tokens)
    memory = prediction.memory
    return Output(system=setup.compressor_id, method=setup.method, text=prediction.text,
                  n_context_tokens=memory.n_context_tokens, n_slots=memory.n_slots,
                  memory_bytes=memory.nbytes(), compress_ms=to_ms(prediction.compress_seconds),
                  decode_ms=to_ms(prediction.decode_seconds), target_nll=prediction.target_nll,
                  target_ids=prediction.target_ids)


def baseline_output(setup: EvalSetup, system: str, example: TaskExample, context_ids: list[int],
                    prompt_ids: list[int], target_ids: list[int], budget: int, max_new_tokens: int,
                    seed: int) -> Output:
    selecting, decoding = Stopwatch(), Stopwatch()
    with selecting.time():
        kept = kept_positions(system, len(context_ids), budget, f"{seed}:{example.example_id}")
        input_ids = baseline_input(context_ids, kept, prompt_ids, start_token_id(setup.tokenizer))
    with decoding.time():
        ids = greedy_decode(setup.decoder, input_ids, max_new_tokens, setup.tokenizer.eos_token_id)
    text = setup.tokenizer.decode(ids, skip_special_tokens=True)
    return Output(system=system, method=system, text=text, n_context_tokens=len(context_ids),
                  n_slots=len(kept), memory_bytes=embedding_bytes(setup.decoder, len(kept)),
                  compress_ms=selecting.ms, decode_ms=decoding.ms,
                  target_nll=target_nll(setup.decoder, input_ids, target_ids))


def example_outputs(setup: EvalSetup, config: EvalConfig, example: TaskExample, max_new_tokens: int,
                    skip: set[str]) -> list[Output]:
    """The compressor's and every baseline's output on one example (systems in ``skip`` are not run,
    except that the compressor still compresses when baselines need its slot count)."""
    from datacomp.compressors.tasks import encode

    context_ids = encode(setup.tokenizer, example.context)[:setup.context_tokens]
    prompt_ids = encode(setup.tokenizer, example.prompt)
    target_ids = baseline_target_ids(setup, example, context_ids)
    outputs: list[Output] = []
    budget = budget_tokens(len(context_ids), setup.ratio)
    pending_baselines = [b for b in config.baselines if b not in skip]
    if setup.compressor is not None and (setup.compressor_id not in skip or pending_baselines):
        compressed = compressor_output(setup, example, max_new_tokens)
        budget = compressed.n_slots
        target_ids = compressed.target_ids or target_ids  # every system's NLL on the same tokens
        if setup.compressor_id not in skip:
            outputs.append(compressed)
    for system in pending_baselines:
        outputs.append(baseline_output(setup, system, example, context_ids, prompt_ids, target_ids, budget,
                                       max_new_tokens, config.seed))
    return outputs


def baseline_target_ids(setup: EvalSetup, example: TaskExample, context_ids: list[int]) -> list[int]:
    """The target ``target_nll`` scores when no compressor supplies its own: built as the compressors'
    ``encode_example`` builds it, with training's cap (max_target_tokens = context tokens): the context itself
    for reconstruction, else the target's first ``context_tokens`` tokens; then eos."""
    from datacomp.compressors.tasks import encode

    target = list(context_ids) if example.task == "reconstruction" \
        else encode(setup.tokenizer, example.target)[:setup.context_tokens]
    eos = setup.tokenizer.eos_token_id
    return target + ([eos] if eos is not None else [])


# ---------------------------------------------------------------- the loop
def run_evaluation(store, config: EvalConfig, setup: EvalSetup) -> EvalSummary:
    """Evaluate ``setup.examples`` (skipping stored rows), record the run, and summarise."""
    from datacomp.progress import progress_bar
    from datacomp.store.runs import record_run

    unknown = [b for b in config.baselines if b not in BASELINES]
    if unknown:
        raise DatacompError(f"unknown baseline {unknown[0]!r}; known: {', '.join(BASELINES)}")
    if not setup.examples:
        raise DatacompError(f"no {config.task} examples from {setup.eval_slice!r} "
                            f"(skipped: {setup.skipped or 'none'})")
    max_new_tokens = config.max_new_tokens or default_max_new_tokens(config.task, setup.context_tokens, config)
    eval_id = evaluation_id(config, setup, max_new_tokens)
    systems = ([setup.compressor_id] if setup.compressor is not None else []) + list(config.baselines)
    done: set[tuple[str, str]] = {(r["system"], r["example_id"])
                                  for r in store.rows("evaluation/done", {"eval_id": eval_id})}
    written = 0
    with record_run(store, "evaluate", {**dataclasses.asdict(config), "eval_id": eval_id,
                                        "max_new_tokens": max_new_tokens}, seed=config.seed) as run:
        run.count("examples", len(setup.examples))
        for reason, n in setup.skipped.items():
            run.count(f"skipped_{reason}", n)
        _warm_up(setup, config, max_new_tokens)
        primary = systems[0]  # the progress bar shows its running mean F1
        running: list[float] = []
        with progress_bar(f"evaluate {config.task}", total=len(setup.examples), unit="examples") as bar:
            for example in setup.examples:
                skip = {s for s in systems if (s, example.example_id) in done}
                with run.phase("decode"):
                    outputs = example_outputs(setup, config, example, max_new_tokens, skip)
                rows = [_row(eval_id, run.run_id, setup, config, example, output) for output in outputs]
                with store.transaction():
                    for row in rows:
                        store.run("evaluation/insert", row)
                written += len(rows)
                running.extend(row["f1"] for row in rows if row["system"] == primary)
                bar.advance(1, **({"f1": sum(running) / len(running)} if running else {}))
        run.count("rows_written", written)
        run.count("rows_already_stored", len(systems) * len(setup.examples) - written)
        summary = summarize(store, eval_id, run.run_id, config.task, setup, systems, written)
    return summary


def _warm_up(setup: EvalSetup, config: EvalConfig, max_new_tokens: int) -> None:
    """One untimed pass over the first example (first-call overheads otherwise skew its latency)."""
    example = setup.examples[0]
    if setup.compressor is not None:
        setup.compressor.predict(example, max_new_tokens=1)
    if config.baselines:
        from datacomp.compressors.tasks import encode

        ids = encode(setup.tokenizer, example.context)[:setup.context_tokens] + encode(setup.tokenizer, example.prompt)
        greedy_decode(setup.decoder, ids or [start_token_id(setup.tokenizer)], 1, None)


def _row(eval_id: str, run_id: str, setup: EvalSetup, config: EvalConfig, example: TaskExample,
         output: Output) -> dict[str, Any]:
    scored = score_output(example, output, config.answer_words)
    return {
        "eval_id": eval_id, "run_id": run_id, "system": output.system, "compressor_id": setup.compressor_id,
        "method": output.method, "decoder_id": setup.decoder_id, "task": example.task,
        "example_id": example.example_id, "doc_id": example.doc_id, "eval_slice": setup.eval_slice,
        "ratio_target": setup.ratio, "ratio_actual": scored["ratio_actual"],
        "n_context_tokens": output.n_context_tokens, "n_slots": output.n_slots,
        "memory_bytes": output.memory_bytes, "f1": scored["f1"], "em": scored["em"], "bleu": scored["bleu"],
        "target_nll": output.target_nll, "compress_ms": output.compress_ms, "decode_ms": output.decode_ms,
        "prediction": scored["prediction"], "reference": example.target,
    }


# ---------------------------------------------------------------- summary
def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def system_means(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """Per-example means of em/f1/bleu/target_nll and the corpus BLEU of one system's rows."""
    means = {metric: _mean([row.get(metric) for row in rows]) for metric in ("em", "f1", "bleu", "target_nll")}
    means["corpus_bleu"] = corpus_bleu([row["prediction"] or "" for row in rows],
                                       [row["reference"] or "" for row in rows])
    return means


def summarize(store, eval_id: str, run_id: str, task: str, setup: EvalSetup, systems: list[str],
              written: int) -> EvalSummary:
    """Aggregate this evaluation's rows for ``setup.examples`` only (a smaller --limit than before is
    summarised over its own prefix)."""
    wanted = {example.example_id for example in setup.examples}
    rows = [r for r in store.rows("evaluation/rows", {"eval_id": eval_id}) if r["example_id"] in wanted]
    by_system = {system: [r for r in rows if r["system"] == system] for system in systems}
    means = {system: system_means(by_system[system]) for system in systems}
    scores = []
    for system in systems:
        system_rows = by_system[system]
        gains, reasons = {}, {}
        for metric in METRICS:
            if "full" in means and "none" in means:
                gains[metric], reason = compression_gain(means[system][metric], means["none"][metric],
                                                         means["full"][metric])
            else:
                gains[metric], reason = None, "needs the full and none baselines"
            if reason:
                reasons[metric] = reason
        scores.append(SystemScores(
            system=system, method=system_rows[0]["method"] if system_rows else system,
            n_examples=len(system_rows), means=means[system], gains=gains, gain_reasons=reasons,
            ratio_actual=_mean([r["ratio_actual"] for r in system_rows]),
            n_slots=_mean([r["n_slots"] for r in system_rows]),
            memory_bytes=_mean([r["memory_bytes"] for r in system_rows]),
            compress_ms=_mean([r["compress_ms"] for r in system_rows]),
            decode_ms=_mean([r["decode_ms"] for r in system_rows])))
    return EvalSummary(eval_id=eval_id, run_id=run_id, task=task, eval_slice=setup.eval_slice,
                       compressor_id=setup.compressor_id, decoder_id=setup.decoder_id,
                       n_examples=len(setup.examples), n_rows_written=written, skipped=dict(setup.skipped),
                       systems=scores)


# ---------------------------------------------------------------- from the store
def prepare(store, config: EvalConfig) -> EvalSetup:
    """Resolve the compressor, decoder and examples named by ``config`` and load the models."""
    from datacomp.compressors.tasks import TaskDataConfig, build_task_data
    from datacomp.models.loading import load_causal_lm
    from datacomp.models.registry import resolve_model

    compressor = compressor_id = method = None
    if config.compressor != "none":
        row = get_compressor_row(store, config.compressor)
        compressor_id, method = row["compressor_id"], row["method"]
        decoder = resolve_model(store, row["decoder_id"])
        if config.decoder is not None and resolve_model(store, config.decoder).model_id != decoder.model_id:
            raise DatacompError(f"--decoder {config.decoder} differs from compressor {compressor_id}'s decoder "
                                f"{decoder.model_id}; baselines must run on the compressor's decoder")
        from datacomp.compressors.registry import load_compressor

        compressor = load_compressor(row["checkpoint"])
        compressor.eval()
        max_context = int(compressor.config.max_context_tokens)
        if config.context_tokens is not None and config.context_tokens > max_context:
            raise DatacompError(f"--context-tokens {config.context_tokens} exceeds compressor {compressor_id}'s "
                                f"max_context_tokens {max_context}")
        context_tokens = config.context_tokens or max_context
        ratio = float(row["ratio"])
        if config.ratio is not None and config.ratio != ratio:
            raise DatacompError(f"--ratio {config.ratio} differs from compressor {compressor_id}'s ratio {ratio}")
    else:
        if config.decoder is None:
            raise DatacompError("--compressor none runs the baselines only and needs --decoder MODEL")
        decoder = resolve_model(store, config.decoder)
        context_tokens = config.context_tokens or 128
        ratio = config.ratio or 4.0
    model, tokenizer = load_causal_lm(decoder.path)
    task_config = TaskDataConfig(task=config.task, context_tokens=context_tokens,
                                 windows_per_document=config.windows_per_document,
                                 continuation_tokens=config.continuation_tokens, span_words=config.span_words,
                                 answer_words=config.answer_words, seed=config.seed, max_examples=config.limit)
    data = build_task_data(task_config, tokenizer, store=store, source=config.slice, qa_file=config.qa_file)
    eval_slice = config.slice if config.task != "qa" else (config.slice or str(config.qa_file))
    return EvalSetup(decoder=model, tokenizer=tokenizer, decoder_id=decoder.model_id, examples=data.examples,
                     context_tokens=context_tokens, ratio=ratio, eval_slice=eval_slice, compressor=compressor,
                     compressor_id=compressor_id, method=method, skipped=data.skipped,
                     source_hash=file_hash(config.qa_file) if config.task == "qa" else None)


def get_compressor_row(store, compressor_id: str) -> dict[str, Any]:
    rows = store.rows("compressors/get", {"compressor_id": compressor_id})
    if not rows:
        known = [r["compressor_id"] for r in store.rows("compressors/list")]
        raise DatacompError(f"no compressor {compressor_id!r} in the store (known: {', '.join(known) or 'none'}); "
                            "train one with `datacomp train`")
    return rows[0]


def evaluate(store, config: EvalConfig) -> EvalSummary:
    """Evaluate compressor ``config.compressor`` (or only the baselines) per example into the store."""
    if config.task not in TASK_METRICS:
        raise DatacompError(f"unknown task {config.task!r}; choose one of {', '.join(TASK_METRICS)}")
    return run_evaluation(store, config, prepare(store, config))
