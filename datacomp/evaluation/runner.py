"""Per-example evaluation of a compressor and the text baselines, into the ``evaluations`` table.

For every example: the compressor (if any) compresses the context and its decoder answers greedily after the
prompt; then each baseline (baselines.py) runs on the plain decoder with the same prompt and the same token
budget (the compressor's slot count on that example, else ceil(n / r)). Every system reads the context up to
the cap (context_cap.py: min(--context-tokens, the models' window), 2048 by default for qa). Each (system,
example) gets one row: EM, F1, sentence BLEU of the extracted answer (tasks.extract_answer) against the gold
answers / the target, the actual ratio (context tokens / slots, decoder tokenizer), memory bytes handed to the
decoder, compression and decoding latency.

An evaluation's identity ``eval_id`` hashes everything that decides its rows (compressor, decoder, task,
example source and construction, budget, decoding) but not ``limit``: re-running skips the rows already
stored (no duplicates; an interrupted evaluation resumes), and a larger ``limit`` only adds examples.
Rows of one example are written in one transaction.

The summary aggregates per system: mean EM/F1/BLEU, corpus BLEU, mean ratio, latency and bytes, and the
compression gain (system - none) / (full - none) of each metric with its paired CI, defined only where
full - none is significant by its paired CI (comparisons.system_gains; else None with the reason).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from datacomp.compressors.example import TaskExample
from datacomp.errors import ConfigError, DatacompError
from datacomp.evaluation.baselines import TUNED_SUFFIX, budget_unit
from datacomp.evaluation.config import EvalConfig
from datacomp.evaluation.batches import EvalWork, evaluate_here, pending_batches
from datacomp.evaluation.metrics import corpus_bleu
from datacomp.evaluation.systems import baseline_systems
from datacomp.evaluation.training_free import prompt_compressor_identity, prompt_compressor_models
from datacomp.evaluation.window_scores import score_windows

METRICS = ("em", "f1", "bleu", "corpus_bleu", "target_nll")  # gain of target_nll: share of the nats recovered
# The metrics each task is judged by (all are stored; these are the ones the summary table shows).
TASK_METRICS = {
    "reconstruction": ("f1", "bleu", "corpus_bleu"),
    "continuation": ("f1", "bleu", "corpus_bleu"),
    "qa": ("em", "f1"),
    "span-recall": ("em", "f1"),
}


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
    compressor: Any = None             # a compressors.base.Compressor (encode / compress / predict)
    compressor_id: str | None = None
    method: str | None = None
    skipped: dict[str, int] = dataclasses.field(default_factory=dict)
    source_hash: str | None = None     # content hash of the QA file, if any
    precision: Any = None              # models.precision.Precision the systems run in (default fp32 CPU)
    prompt_format: str = "plain"       # how baselines-only runs put the prompt (a compressor uses its own)
    encoder_id: str | None = None      # the compressor's registered encoder: window scores (window_scores.py)
    encoder_lm: Any = None             # (model, tokenizer) of that encoder if already loaded; else loaded there
    llmlingua_model: str | None = None   # path of LLMLingua's small causal LM; None = the decoder itself
    llmlingua2_model: str | None = None  # folder of LLMLingua-2's token-classification model
    training_free: dict[str, Any] = dataclasses.field(default_factory=dict)  # prompt compressors, built on first use
    context_note: str = ""             # how the context cap was chosen (context_cap.ContextCap.note)
    skipped_ids: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # reason -> the skipped ids

    def __post_init__(self):
        if self.precision is None:
            from datacomp.models.precision import resolve_precision

            self.precision = resolve_precision("fp32", "cpu")


@dataclasses.dataclass
class SystemScores:
    system: str
    method: str
    n_examples: int
    means: dict[str, float | None]     # em, f1, bleu (per-example means), corpus_bleu
    gains: dict[str, float | None]     # against full and none on the plain decoder (comparisons.system_gains)
    gain_reasons: dict[str, str]       # why a gain is None: e.g. full - none not significant by its paired CI
    gain_intervals: dict[str, tuple[float | None, float | None]]   # the gains' paired BCa CIs
    gains_tuned: dict[str, float | None]  # against full@tuned and none@tuned (a decoder-tuning compressor)
    ratio_actual: float | None
    budget_unit: str                   # what n_slots counts: tokens, kv_slots or soft_tokens
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
    paired: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # comparisons.paired_comparisons
    context_tokens: int | None = None  # the cap every system read at most
    context_note: str = ""             # how that cap was chosen
    skipped_ids: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # reason -> the skipped ids
    prompt_format: str = ""            # the layout every system was evaluated in (prompts.prompt_signature)
    answer_outside_truncation: dict[str, Any] | None = None  # qa: context_cap.answer_outside_truncation

    def table_rows(self) -> list[dict[str, Any]]:
        """One row per system: the task's metrics with their gains, ratio, latency and bytes."""
        rows = []
        for scores in self.systems:
            row: dict[str, Any] = {"system": scores.system, "n": scores.n_examples,
                                   "ratio": scores.ratio_actual, "budget_unit": scores.budget_unit}
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
def evaluation_id(config: EvalConfig, setup: EvalSetup, max_new_tokens: int) -> str:
    """Hash of what decides the rows (not ``limit``, nor the batch size or the dtype's speed)."""
    from datacomp.store.runs import config_hash

    return "eval-" + config_hash({
        "compressor": setup.compressor_id, "decoder": setup.decoder_id, "task": config.task,
        "source": setup.eval_slice, "source_hash": setup.source_hash, "context_tokens": setup.context_tokens,
        "ratio": setup.ratio, "baselines": list(config.baselines), "max_new_tokens": max_new_tokens,
        "span_words": config.span_words, "answer_words": config.answer_words,
        "continuation_tokens": config.continuation_tokens,
        "windows_per_document": config.windows_per_document, "seed": config.seed,
        "precision": setup.precision.name, "engine": 2, "order": "hash",
        "prompt_format": resolved_prompt_format(setup, config.task),
        **prompt_compressor_identity(config, setup),
    })



def resolved_prompt_format(setup: EvalSetup, task: str) -> str:
    """The prompt's signature (compressors/prompts.py): plain, or fewshot / chat with a hash of its tokens."""
    from datacomp.compressors.prompts import prompt_signature

    wanted = setup.compressor.config.prompt_format if setup.compressor is not None else setup.prompt_format
    return prompt_signature(wanted, setup.tokenizer, task)


def encode_for_evaluation(setup: EvalSetup) -> list:
    """The examples as the compressor encodes them (its own target rules and prompt layout, contexts up to
    the evaluation's cap), else with the base config at the cap: every system scores the same target tokens."""
    from datacomp.compressors.base import CompressorConfig
    from datacomp.compressors.batch import encode_examples

    if setup.compressor is not None:
        config = dataclasses.replace(setup.compressor.config, max_context_tokens=setup.context_tokens)
        return encode_examples(setup.examples, setup.tokenizer, config)
    config = CompressorConfig(max_context_tokens=setup.context_tokens, max_target_tokens=setup.context_tokens,
                              prompt_format=setup.prompt_format)
    return encode_examples(setup.examples, setup.tokenizer, config)


# ---------------------------------------------------------------- the loop
def run_evaluation(store, config: EvalConfig, setup: EvalSetup, engine=None) -> EvalSummary:
    """Evaluate ``setup.examples`` in length-sorted batches (skipping stored rows), record the run, and
    summarise. Rows of one batch are written in one transaction (a kill loses at most that batch).
    ``engine`` runs the pending batches elsewhere (evaluation/ray_engine.py) and imports their rows."""
    from datacomp.store.runs import record_run

    if not setup.examples:
        raise DatacompError(f"no {config.task} examples from {setup.eval_slice!r} "
                            f"(skipped: {setup.skipped or 'none'})")
    max_new_tokens = config.max_new_tokens or default_max_new_tokens(config.task, setup.context_tokens, config)
    eval_id = evaluation_id(config, setup, max_new_tokens)
    systems = ([setup.compressor_id] if setup.compressor is not None else []) + \
        baseline_systems(config.baselines, setup.compressor)
    encoded = encode_for_evaluation(setup)
    recorded = {**dataclasses.asdict(config), "eval_id": eval_id, "systems": systems,
                "prompt_format_resolved": resolved_prompt_format(setup, config.task),
                "max_new_tokens": max_new_tokens, "precision": setup.precision.name,
                "context_cap": setup.context_tokens, "context_note": setup.context_note,
                "skipped_ids": setup.skipped_ids}
    with record_run(store, "evaluate", {**recorded, **(engine.as_config() if engine else {})},
                    seed=config.seed) as run:
        run.count("examples", len(setup.examples))
        for reason, n in setup.skipped.items():
            run.count(f"skipped_{reason}", n)
        if engine is not None:
            engine.before_selecting(store, eval_id, run)   # rows a killed driver's workers finished
        done: set[tuple[str, str]] = {(r["system"], r["example_id"])
                                      for r in store.rows("evaluation/done", {"eval_id": eval_id})}
        batches = pending_batches(setup, encoded, systems, done, config.batch_size)
        work = EvalWork(setup, config, eval_id, run.run_id, systems, max_new_tokens)
        if engine is None:
            written = evaluate_here(store, work, encoded, batches, run)
        else:
            written = engine.evaluate(store, work, batches, run)
        run.count("rows_written", written)
        run.count("rows_already_stored", len(systems) * len(setup.examples) - written)
        with run.phase("window_scores"):   # the evaluated windows' entropy etc.: the report's predictors
            run.count("windows_scored", score_windows(store, setup, encoded, eval_id, run.run_id))
        run.count("batch_size", config.batch_size)
        summary = summarize(store, eval_id, run.run_id, config.task, setup, systems, written)
        if summary.answer_outside_truncation is not None:
            run.count("qa_answer_outside_truncation", summary.answer_outside_truncation["n"])
    return summary


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
    from datacomp.evaluation.comparisons import paired_comparisons, system_gains

    wanted = {example.example_id for example in setup.examples}
    rows = [r for r in store.rows("evaluation/rows", {"eval_id": eval_id}) if r["example_id"] in wanted]
    by_system = {system: [r for r in rows if r["system"] == system] for system in systems}
    means = {system: system_means(by_system[system]) for system in systems}
    scores = []
    for system in systems:
        system_rows = by_system[system]
        plain = system_gains(rows, system, METRICS)
        tuned = system_gains(rows, system, METRICS, suffix=TUNED_SUFFIX) \
            if "full" + TUNED_SUFFIX in systems and "none" + TUNED_SUFFIX in systems else {}
        gains = {metric: g["gain"] for metric, g in plain.items()}
        reasons = {metric: g["reason"] for metric, g in plain.items() if g["reason"]}
        scores.append(SystemScores(
            system=system, method=system_rows[0]["method"] if system_rows else system,
            n_examples=len(system_rows), means=means[system], gains=gains, gain_reasons=reasons,
            gain_intervals={metric: (g["ci_low"], g["ci_high"]) for metric, g in plain.items()},
            gains_tuned={metric: g["gain"] for metric, g in tuned.items()},
            ratio_actual=_mean([r["ratio_actual"] for r in system_rows]),
            budget_unit=budget_unit(system, system_rows[0]["method"] if system_rows else None),
            n_slots=_mean([r["n_slots"] for r in system_rows]),
            memory_bytes=_mean([r["memory_bytes"] for r in system_rows]),
            compress_ms=_mean([r["compress_ms"] for r in system_rows]),
            decode_ms=_mean([r["decode_ms"] for r in system_rows])))
    from datacomp.evaluation.context_cap import answer_outside_truncation

    return EvalSummary(eval_id=eval_id, run_id=run_id, task=task, eval_slice=setup.eval_slice,
                       compressor_id=setup.compressor_id, decoder_id=setup.decoder_id,
                       n_examples=len(setup.examples), n_rows_written=written, skipped=dict(setup.skipped),
                       systems=scores, paired=paired_comparisons(rows, systems, setup.compressor_id, task),
                       context_tokens=setup.context_tokens, context_note=setup.context_note,
                       skipped_ids={k: list(v) for k, v in setup.skipped_ids.items()},
                       prompt_format=resolved_prompt_format(setup, task),
                       answer_outside_truncation=answer_outside_truncation(setup.examples, rows,
                                                                           setup.compressor_id, setup.ratio))


# ---------------------------------------------------------------- from the store
def prepare(store, config: EvalConfig) -> EvalSetup:
    """Resolve the compressor, decoder and examples named by ``config`` and load the models (once: the
    baselines run on the compressor's own decoder, with its adapters off)."""
    from datacomp.compressors.tasks import TaskDataConfig, build_task_data
    from datacomp.evaluation.context_cap import context_cap
    from datacomp.models.precision import resolve_precision
    from datacomp.models.registry import resolve_model
    from datacomp.store.runs import file_hash

    precision = resolve_precision(config.dtype)
    compressor = compressor_id = method = None
    if config.compressor != "none":
        row = get_compressor_row(store, config.compressor)
        compressor_id, method = row["compressor_id"], row["method"]
        decoder = resolve_model(store, row["decoder_id"])
        if config.decoder is not None and resolve_model(store, config.decoder).model_id != decoder.model_id:
            raise ConfigError("decoder", f"{config.decoder} differs from compressor {compressor_id}'s decoder "
                                         f"{decoder.model_id}; baselines must run on the compressor's decoder")
        ratio = float(row["ratio"])
        if config.ratio is not None and config.ratio != ratio:  # before its models load
            raise ConfigError("ratio", f"{config.ratio} differs from compressor {compressor_id}'s ratio {ratio}")
        compressor, model, tokenizer = load_evaluated(precision, checkpoint=row["checkpoint"])
        encoder = resolve_model(store, row["encoder_id"])
        cap = context_cap(config.task, config.context_tokens,
                          {f"decoder {decoder.model_id}": decoder.context_len,
                           f"encoder {encoder.model_id}": encoder.context_len},
                          compressor_tokens=int(compressor.config.max_context_tokens))
    else:
        if config.decoder is None:
            raise ConfigError("decoder", "is needed: {compressor} none runs the baselines only, on this model",
                              others=("compressor",))
        decoder = resolve_model(store, config.decoder)
        cap = context_cap(config.task, config.context_tokens, {f"decoder {decoder.model_id}": decoder.context_len})
        _, model, tokenizer = load_evaluated(precision, decoder_path=decoder.path)
        ratio = config.ratio or 4.0
    context_tokens = cap.tokens
    task_config = TaskDataConfig(task=config.task, context_tokens=context_tokens,
                                 windows_per_document=config.windows_per_document,
                                 continuation_tokens=config.continuation_tokens, span_words=config.span_words,
                                 answer_words=config.answer_words, seed=config.seed, max_examples=config.limit,
                                 order="hash")
    data = build_task_data(task_config, tokenizer, store=store, source=config.slice, qa_file=config.qa_file)
    eval_slice = config.slice if config.task != "qa" else (config.slice or str(config.qa_file))
    return EvalSetup(decoder=model, tokenizer=tokenizer, decoder_id=decoder.model_id, examples=data.examples,
                     context_tokens=context_tokens, ratio=ratio, eval_slice=eval_slice, compressor=compressor,
                     compressor_id=compressor_id, method=method, skipped=data.skipped,
                     skipped_ids=data.skipped_ids, context_note=cap.note,
                     encoder_id=row["encoder_id"] if compressor is not None else None,
                     source_hash=file_hash(config.qa_file) if config.task == "qa" else None, precision=precision,
                     prompt_format=config.prompt_format, **prompt_compressor_models(store, config))



def load_evaluated(precision, checkpoint: str | None = None, decoder_path: str | None = None):
    """(compressor or None, decoder, tokenizer) as an evaluation runs them: a saved compressor with its own
    decoder (the baselines switch its adapters off), else the plain decoder, frozen, in ``precision``."""
    if checkpoint is not None:
        from datacomp.compressors.registry import load_compressor

        compressor = load_compressor(checkpoint, precision=precision.name)
        compressor.eval()
        return compressor, compressor.decoder, compressor.tokenizer
    from datacomp.compressors.lora import load_lm
    from datacomp.models.precision import apply_precision

    model, tokenizer = load_lm(decoder_path)
    apply_precision(model.requires_grad_(False), precision)  # frozen: bf16 weights on CUDA
    return None, model, tokenizer


def get_compressor_row(store, compressor_id: str) -> dict[str, Any]:
    rows = store.rows("compressors/get", {"compressor_id": compressor_id})
    if not rows:
        known = [r["compressor_id"] for r in store.rows("compressors/list")]
        raise DatacompError(f"no compressor {compressor_id!r} in the store (known: {', '.join(known) or 'none'}); "
                            "train one with `datacomp train`")
    return rows[0]


def evaluate(store, config: EvalConfig, engine=None) -> EvalSummary:
    """Evaluate compressor ``config.compressor`` (or only the baselines) per example into the store; with
    ``engine`` (evaluation/ray_engine.py) the batches run on its workers."""
    from datacomp.models.precision import matmul_scope

    setup = prepare(store, config)
    with matmul_scope(setup.precision):
        return run_evaluation(store, config, setup, engine)
