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
import sys
import time
from typing import Any

import torch

from datacomp.errors import DatacompError
from datacomp.models.loading import DTYPES, load_causal_lm
from datacomp.models.registry import ModelRecord, resolve_model
from datacomp.models.tokenizer import tokenize_texts
from datacomp.progress import progress_bar
from datacomp.scoring.batching import pad_batch, token_budget_batches
from datacomp.scoring.config import MAX_DEFAULT_WINDOW, ScoreConfig, ScoreSummary, parse_shard
from datacomp.scoring.forward import ScoringModel, score_batch
from datacomp.scoring.metrics import Moments
from datacomp.scoring.rows import MIN_TOKENS, gap_row, null_reason, score_row, write_rows
from datacomp.scoring.windows import check_window, prefix_token_id, windows
from datacomp.store import Store
from datacomp.store.runs import record_run

MISMATCH_WARNING = ("encoder {enc} and decoder {dec} have different tokenizers ({enc_tok} vs {dec_tok}): "
                    "a token-level gap (KL/JS) is impossible; storing gaps with method='bpb_diff' "
                    "(bits per byte of the encoder minus the decoder's) instead")


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
    from datacomp.corpus.names import require_corpora

    config.validate()
    require_corpora(store, config.corpora)   # unknown names are errors before any model loads or run starts
    refs, want_gap = config.model_refs()
    if config.dtype not in DTYPES:
        raise DatacompError(f"--dtype must be one of {', '.join(DTYPES)}, got {config.dtype!r}")
    records = [resolve_model(store, ref) for ref in refs]
    window, stride = resolve_window(config, records)
    shard_index, shard_count = parse_shard(config.shard)
    model_ids = list(dict.fromkeys(r.model_id for r in records))
    gap_method = None
    warnings = []
    if want_gap:
        same = records[0].tokenizer_id is not None and records[0].tokenizer_id == records[1].tokenizer_id
        gap_method = "token" if same else "bpb_diff"
        if not same:
            warnings.append(MISMATCH_WARNING.format(
                enc=records[0].name, dec=records[1].name,
                enc_tok=records[0].tokenizer_id, dec_tok=records[1].tokenizer_id))
            _warn(warnings[-1])

    resolved = {"config": dataclasses.asdict(config), "model_ids": [r.model_id for r in records],
                "window": window, "stride": stride, "gap_method": gap_method,
                "first_token": "prefix BOS (else EOS) and score every text token"}
    if config.slice is not None:
        found = store.rows("compressors/slice_exists", {"slice": config.slice})
        if not found:
            known = [r["name"] for r in store.rows("compressors/known_sources") if r["kind"] == "slice"]
            raise DatacompError(f"--slice {config.slice!r}: no such slice (known: {', '.join(known) or 'none'})")
    with record_run(store, "score", resolved) as run:
        summary = ScoreSummary(run_id=run.run_id, model_ids=[r.model_id for r in records], window=window,
                               stride=stride, dtype=config.dtype, gap_method=gap_method, warnings=warnings)
        key = {"window_len": window, "stride": stride, "dtype": config.dtype, "run_id": run.run_id}
        with run.phase("select"):
            selected = store.rows("scoring/docs_to_score", {
                "corpora": list(config.corpora), "slice": config.slice,
                "shard_index": shard_index, "shard_count": shard_count,
                "limit": config.limit, "model_ids": model_ids, "window_len": window, "stride": stride,
                "dtype": config.dtype,
                "encoder_id": records[0].model_id if want_gap else None,
                "decoder_id": records[1].model_id if want_gap else None})
        todo = [row["doc_id"] for row in selected if not row["done"]]
        summary.docs_selected, summary.docs_skipped = len(selected), len(selected) - len(todo)
        if not selected:
            summary.warnings.append(f"no documents in corpora {', '.join(config.corpora) or '(any)'}"
                                    f"{' and slice ' + config.slice if config.slice else ''} (shard "
                                    f"{shard_index}/{shard_count}); nothing to score")
            _warn(summary.warnings[-1])
        if todo:
            with run.phase("load_models"):
                lanes = load_lanes(records, config.dtype)
            start, start_cpu = time.perf_counter(), time.process_time()
            with progress_bar("scoring", total=len(todo), unit="docs") as bar:
                for lo in range(0, len(todo), config.block_docs):
                    block_ids = todo[lo: lo + config.block_docs]
                    with run.phase("read"):
                        texts = {r["doc_id"]: r["text"] for r in
                                 store.rows("scoring/doc_texts", {"doc_ids": block_ids})}
                    block = [(doc_id, texts[doc_id]) for doc_id in block_ids]
                    _score_block(store, block, lanes, records, want_gap, gap_method, key, window, stride,
                                 config, summary, run, bar, start)
            summary.seconds = time.perf_counter() - start
            summary.cpu_seconds = time.process_time() - start_cpu
        run.count("docs_selected", summary.docs_selected)
        run.count("docs_skipped", summary.docs_skipped)
        run.count("docs_scored", summary.docs_scored)
        run.count("docs_null", summary.docs_null)
        run.count("tokens_scored", summary.tokens_scored)
        run.count("tokens_forward", summary.tokens_forward)
        run.count("batches", summary.batches)
        run.count("tokens_per_second", round(summary.tokens_per_second, 1))
    return summary


def _warn(message: str) -> None:
    """Warnings go to stderr as they happen (and into the summary), whoever called the engine."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def resolve_window(config: ScoreConfig, records: list[ModelRecord]) -> tuple[int, int]:
    """The window (default: the smallest model context, capped) and stride (default: half the window)."""
    contexts = [r.context_len for r in records if r.context_len]
    window = config.window
    if window is None:
        if not contexts:
            raise DatacompError(f"model {records[0].name} does not state its context length "
                                "(max_position_embeddings): pass --window")
        window = min(min(contexts), MAX_DEFAULT_WINDOW)
    for record in records:
        if record.context_len and window > record.context_len:
            raise DatacompError(f"--window {window} exceeds the context length {record.context_len} "
                                f"of model {record.name}")
    stride = config.stride if config.stride is not None else max(1, window // 2)
    check_window(window, stride)
    return window, stride


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


def _score_block(store: Store, block: list[tuple[str, str]], lanes: list[Lane], records: list[ModelRecord],
                 want_gap: bool, gap_method: str | None, key: dict[str, Any], window: int, stride: int,
                 config: ScoreConfig, summary: ScoreSummary, run, bar, start: float) -> None:
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
            write_rows(store, null_scores, null_gaps)
        n_null = len(block) - sum(1 for r in remaining if r)
        if lane is lanes[-1]:
            summary.docs_null += n_null
            summary.docs_scored += n_null
        bar.advance(n_null / len(lanes))

        n_models = len(lane.models)
        surprisal = [Moments(len(block)) for _ in range(n_models)]
        entropy = [Moments(len(block)) for _ in range(n_models)]
        kl_ed, kl_de, js = Moments(len(block)), Moments(len(block)), Moments(len(block))
        for batch in token_budget_batches(segments, config.token_budget, config.padding_slack):
            with run.phase("forward"):
                padded = pad_batch(batch, lane.pad_id)
                values = score_batch(lane.models, padded, config.chunk_elements)
                for m in range(n_models):
                    surprisal[m].add(padded.docs, values.surprisal[m])
                    entropy[m].add(padded.docs, values.entropy[m])
                if token_gap:
                    kl_ed.add(padded.docs, values.kl_enc_dec)
                    kl_de.add(padded.docs, values.kl_dec_enc)
                    js.add(padded.docs, values.js)
            completed = []
            for segment in batch:
                remaining[segment.doc] -= 1
                if remaining[segment.doc] == 0:
                    completed.append(segment.doc)
            score_rows, gap_rows = [], []
            for i in completed:
                n = int(surprisal[0].count[i])
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
                                            kl_ed.mean(i), kl_de.mean(i), (js.mean(i), js.std(i))))
            with run.phase("write"):
                write_rows(store, score_rows, gap_rows)
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
            write_rows(store, [], rows)
