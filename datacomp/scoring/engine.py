"""The scoring engine: every selected document under one model, or an encoder and a decoder plus their gap.

Flow per block of ``block_docs`` documents (in doc_id order): tokenise once per tokenizer, cut each
document into windows (``windows.py``: a BOS/EOS prefix, every text token scored exactly once), sort the
windows by length and group them into token-budget batches (``batching.py``); each batch goes through
every model that shares the tokenizer (encoder and decoder see the same batch, so the token-level
gap costs one extra log-softmax, not another pass), per-token values are accumulated per document, and
the rows of the documents completed by the batch are written in one transaction. A re-run skips the
documents whose rows exist for the same (models, window, stride, dtype): a killed run resumes, losing at
most the batch in flight.

Encoder and decoder with different tokenizers cannot be compared token by token: the run says so
(a warning on stderr and in the summary) and stores gaps with method 'bpb_diff', the difference of
their bits per byte, which both measure on the same bytes.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable

from datacomp.models.loading import load_causal_lm
from datacomp.models.precision import matmul_scope
from datacomp.models.registry import ModelRecord
from datacomp.models.tokenizer import tokenize_texts
from datacomp.progress import progress_bar
from datacomp.scoring.batching import pad_batch, token_budget_batches
from datacomp.scoring.config import ScoreConfig, ScoreSummary
from datacomp.scoring.forward import DocumentMoments, ScoringModel, score_batch
from datacomp.scoring.plan import ScoringPlan, nothing_selected_warning, plan_scoring, select_documents, warn
from datacomp.scoring.rows import MIN_TOKENS, gap_row, null_reason, score_row, write_rows
from datacomp.scoring.windows import prefix_token_id, windows
from datacomp.store import Store
from datacomp.store.runs import record_run

RowSink = Callable[[list[dict[str, Any]], list[dict[str, Any]]], None]  # (score rows, gap rows) of a batch


@dataclasses.dataclass
class Lane:
    """Models that share a tokenizer and therefore run on the same batches."""

    records: list[ModelRecord]
    models: list[ScoringModel]
    tokenizer: Any
    prefix_id: int
    pad_id: int

    @property
    def model_ids(self) -> list[str]:
        return [r.model_id for r in self.records]


def score_corpus(store: Store, config: ScoreConfig) -> ScoreSummary:
    """Score the configured corpora; returns what was done. Re-running resumes where a run stopped."""
    plan = plan_scoring(store, config)
    with record_run(store, "score", plan.resolved) as run, matmul_scope(plan.precision):
        summary = new_summary(run.run_id, plan)
        try:
            score_todo(store, config, plan, summary, run)
        finally:   # an interrupted or failed run's record counts what it did store
            count_summary(run, summary)
    return summary


def score_todo(store: Store, config: ScoreConfig, plan: ScoringPlan, summary: ScoreSummary, run) -> None:
    """Score the selected documents that lack rows, block by block, into ``summary``."""
    todo = documents_to_score(store, config, plan, summary, run)
    if not todo:
        return
    with run.phase("load_models"):
        lanes = load_lanes(plan.records, plan.dtype)
    start, start_cpu = time.perf_counter(), time.process_time()
    sink = lambda scores, gaps: write_rows(store, scores, gaps)  # noqa: E731
    try:
        with progress_bar("scoring", total=len(todo), unit="docs") as bar:
            for lo in range(0, len(todo), config.block_docs):
                block_ids = todo[lo: lo + config.block_docs]
                with run.phase("read"):
                    texts = {r["doc_id"]: r["text"] for r in store.rows("scoring/doc_texts", {"doc_ids": block_ids})}
                block = [(doc_id, texts[doc_id]) for doc_id in block_ids]
                score_block(block, lanes, plan, plan.key(run.run_id), config, summary, run, bar, start, sink)
    finally:
        summary.seconds = time.perf_counter() - start
        summary.cpu_seconds = time.process_time() - start_cpu


def new_summary(run_id: str, plan: ScoringPlan) -> ScoreSummary:
    return ScoreSummary(run_id=run_id, model_ids=[r.model_id for r in plan.records], window=plan.window,
                        stride=plan.stride, dtype=plan.dtype, gap_method=plan.gap_method,
                        warnings=list(plan.warnings))


def documents_to_score(store: Store, config: ScoreConfig, plan: ScoringPlan, summary: ScoreSummary, run) -> list[str]:
    """The selected documents without all their rows yet; counts the selected and the skipped."""
    with run.phase("select"):
        selected = select_documents(store, config, plan)
    todo = [row["doc_id"] for row in selected if not row["done"]]
    summary.docs_selected, summary.docs_skipped = len(selected), len(selected) - len(todo)
    if not selected:
        summary.warnings.append(nothing_selected_warning(config))
        warn(summary.warnings[-1])
    return todo


def count_summary(run, summary: ScoreSummary) -> None:
    """The summary's counts into the run's record."""
    for name in ("docs_selected", "docs_skipped", "docs_scored", "docs_null", "tokens_scored", "tokens_forward",
                 "batches"):
        run.count(name, getattr(summary, name))
    run.count("tokens_per_second", round(summary.tokens_per_second, 1))


def load_lanes(records: list[ModelRecord], dtype: str) -> list[Lane]:
    """Load each distinct model once and group the models by tokenizer id (encoder's lane first)."""
    lanes: dict[str | None, Lane] = {}
    loaded: dict[str, tuple[ScoringModel, Any]] = {}
    for record in records:
        if record.model_id not in loaded:
            model, tokenizer = load_causal_lm(record.path, dtype=dtype)
            loaded[record.model_id] = (ScoringModel(model, record.name), tokenizer)
        scoring_model, tokenizer = loaded[record.model_id]
        group = record.tokenizer_id or record.model_id
        if group not in lanes:
            prefix = prefix_token_id(tokenizer, record.name)
            pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else prefix
            lanes[group] = Lane([], [], tokenizer, prefix, int(pad))
        lanes[group].records.append(record)
        lanes[group].models.append(scoring_model)
    return list(lanes.values())


def tokenize(tokenizer, texts: list[str]) -> list[list[int]]:
    """Text tokens only (models.tokenizer.tokenize_texts); the engine adds its one prefix token itself."""
    return tokenize_texts(tokenizer, texts)


def score_block(block: list[tuple[str, str]], lanes: list[Lane], plan: ScoringPlan, key: dict[str, Any],
                config: ScoreConfig, summary: ScoreSummary, run, bar, start: float, sink: RowSink) -> None:
    """Score one block of (doc_id, text): the rows of the documents each batch completes go to ``sink`` (the
    store in-process, a Parquet shard in a Ray actor)."""
    records, want_gap, gap_method = plan.records, plan.want_gap, plan.gap_method
    window, stride = plan.window, plan.stride
    doc_ids = [doc_id for doc_id, _ in block]
    n_bytes = [len(text.encode("utf-8")) for _, text in block]
    bpb: dict[str, dict[str, float | None]] = {r.model_id: {} for r in records}
    n_tokens_by_model: dict[str, dict[str, int]] = {r.model_id: {} for r in records}
    enc_id, dec_id = (records[0].model_id, records[1].model_id) if want_gap else (None, None)

    for lane in lanes:
        token_gap = want_gap and gap_method == "token"
        with run.phase("tokenize"):
            tokens = tokenize(lane.tokenizer, [text for _, text in block])
        segments, remaining = [], [0] * len(block)
        null_scores, null_gaps = [], []
        for i, ids in enumerate(tokens):
            if len(ids) < MIN_TOKENS:
                for record in {r.model_id: r for r in lane.records}.values():
                    null_scores.append(score_row(key, doc_ids[i], record.model_id, len(ids), n_bytes[i]))
                    bpb[record.model_id][doc_ids[i]] = None
                    n_tokens_by_model[record.model_id][doc_ids[i]] = len(ids)
                if token_gap:
                    null_gaps.append(gap_row(key, doc_ids[i], enc_id, dec_id, "token", len(ids), None, None,
                                             reason=null_reason(len(ids))))
                continue
            for segment in windows(i, ids, lane.prefix_id, window, stride):
                segments.append(segment)
                remaining[i] += 1
        with run.phase("write"):
            sink(null_scores, null_gaps)
        n_null = len(block) - sum(1 for r in remaining if r)
        if lane is lanes[-1]:
            summary.docs_null += n_null
            summary.docs_scored += n_null
        bar.advance(n_null / len(lanes))

        moments = DocumentMoments(len(block), len(lane.models), gap=token_gap)
        surprisal, entropy = moments.surprisal, moments.entropy
        for batch in token_budget_batches(segments, config.token_budget, config.padding_slack):
            with run.phase("forward"):
                padded = pad_batch(batch, lane.pad_id)
                moments.add(padded.docs, score_batch(lane.models, padded, config.chunk_elements))
            completed = []
            for segment in batch:
                remaining[segment.doc] -= 1
                if remaining[segment.doc] == 0:
                    completed.append(segment.doc)
            score_rows, gap_rows = [], []
            for i in completed:
                n = moments.count(i)
                for m, record in enumerate(lane.records):
                    if m and record.model_id == lane.records[0].model_id:
                        continue  # encoder == decoder: one scores row, the gap (zero) still stored
                    row = score_row(key, doc_ids[i], record.model_id, n, n_bytes[i],
                                    (surprisal[m].mean(i), surprisal[m].std(i)),
                                    (entropy[m].mean(i), entropy[m].std(i)))
                    score_rows.append(row)
                    bpb[record.model_id][doc_ids[i]] = row["bits_per_byte"]
                    n_tokens_by_model[record.model_id][doc_ids[i]] = n
                if token_gap:
                    gap_rows.append(gap_row(key, doc_ids[i], enc_id, dec_id, "token", n,
                                            bpb[enc_id][doc_ids[i]], bpb[dec_id][doc_ids[i]],
                                            moments.gap["kl_enc_dec"].mean(i), moments.gap["kl_dec_enc"].mean(i),
                                            (moments.gap["js"].mean(i), moments.gap["js"].std(i))))
            with run.phase("write"):
                sink(score_rows, gap_rows)
            summary.batches += 1
            summary.tokens_scored += int(padded.targets.numel())
            summary.tokens_forward += padded.n_real_tokens
            if lane is lanes[-1]:
                summary.docs_scored += len(completed)
            elapsed = time.perf_counter() - start
            bar.advance(len(completed) / len(lanes),
                        tok_s=round(summary.tokens_scored / elapsed) if elapsed > 0 else 0)

    if want_gap and gap_method == "bpb_diff":
        rows = []
        for i, doc_id in enumerate(doc_ids):
            n_enc = n_tokens_by_model[enc_id].get(doc_id, 0)
            n_dec = n_tokens_by_model[dec_id].get(doc_id, 0)
            reason = null_reason(min(n_enc, n_dec))
            rows.append(gap_row(key, doc_id, enc_id, dec_id, "bpb_diff", None,
                                bpb[enc_id].get(doc_id), bpb[dec_id].get(doc_id), reason=reason))
        with run.phase("write"):
            sink([], rows)
