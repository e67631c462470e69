"""The restated-segment test: does a causal LM read its context?

A held-out segment of ``segment_tokens`` tokens is read once and then restated right after it. Each row is
``[start, s_1 .. s_S, s_1 .. s_S]``, the start token being the tokenizer's BOS (else eos: a document
boundary for the reference models). Two mean next-token NLLs (nats/token) are reported:

- ``first_nll``: the first reading, targets s_2 .. s_S (s_1 follows only the start token);
- ``restated_nll``: the restatement, targets s_2 .. s_S of the second copy (its s_1 is not yet
  predictable by copying: nothing says the segment starts over).

A model that uses its context predicts the restatement far better than the first reading; one that does
not scores both alike (measured: SmolLM2-135M-Instruct 3.88 -> 0.51; the 2-minute reference LMs ~5.3 ->
~5.1). The model "reads its context" when ``restated_nll <= READS_CONTEXT_MAX_NLL`` (1.5 nats/token, the
bar issue 10 set for reference decoders) while the first reading is clearly harder (``first_nll - restated_nll
>= READS_CONTEXT_MIN_DROP``): copying, not an easy text, must explain the low restatement cost.

Segments come from a token stream of held-out text: consecutive, non-overlapping, at most ``segments`` of
them. Pure given the model and the stream; I/O (reading documents, storing results) is the caller's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

READS_CONTEXT_MAX_NLL = 1.5  # nats/token on the restatement
READS_CONTEXT_MIN_DROP = 1.0  # nats/token between the first reading and the restatement
SEGMENT_TOKENS = 64  # issue 10's test: a held-out 64-token segment, then the same 64 tokens


@dataclasses.dataclass(frozen=True)
class CopyTest:
    first_nll: float
    restated_nll: float
    segments: int  # rows scored
    segment_tokens: int

    @property
    def reads_context(self) -> bool:
        return reads_context(self.first_nll, self.restated_nll)

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "reads_context": self.reads_context}


def reads_context(first_nll: float | None, restated_nll: float | None) -> bool | None:
    """The verdict of the test (None when it could not run)."""
    if first_nll is None or restated_nll is None:
        return None
    return restated_nll <= READS_CONTEXT_MAX_NLL and first_nll - restated_nll >= READS_CONTEXT_MIN_DROP


def segment_length(context_len: int | None, wanted: int = SEGMENT_TOKENS) -> int:
    """``wanted`` tokens, or fewer when the model's window cannot read start + two copies (its input is
    the row without its last token: 2 * segment tokens)."""
    if context_len is None:
        return wanted
    return max(min(wanted, context_len // 2), 2)


def restated_rows(stream: np.ndarray, segment_tokens: int, segments: int, start_token: int) -> np.ndarray:
    """``[rows, 1 + 2 * segment_tokens]``: start token, a segment, the segment again; consecutive
    non-overlapping segments of ``stream``. Zero rows when the stream is shorter than one segment."""
    starts = list(range(0, len(stream) - segment_tokens + 1, segment_tokens))[:segments]
    rows = np.empty((len(starts), 1 + 2 * segment_tokens), dtype=np.int64)
    for i, begin in enumerate(starts):
        segment = stream[begin:begin + segment_tokens]
        rows[i, 0] = start_token
        rows[i, 1:1 + segment_tokens] = segment
        rows[i, 1 + segment_tokens:] = segment
    return rows


def copy_test(model, rows: np.ndarray, batch_size: int = 16, autocast=None) -> CopyTest | None:
    """Score ``restated_rows`` under ``model``; None when there are no rows. ``autocast`` is a context
    manager factory (models/precision.py) or None for the model's own dtype."""
    import contextlib

    import torch
    import torch.nn.functional as F

    if len(rows) == 0:
        return None
    half = (rows.shape[1] - 1) // 2
    device = next(model.parameters()).device
    first, restated = [], []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for begin in range(0, len(rows), batch_size):
                batch = torch.from_numpy(rows[begin:begin + batch_size]).to(device)
                with (autocast() if autocast else contextlib.nullcontext()):
                    logits = model(input_ids=batch[:, :-1]).logits
                nll = F.cross_entropy(logits.float().transpose(1, 2), batch[:, 1:], reduction="none")
                # target j is token j + 1: token 1 = s_1 (after the start token only), tokens 2..half the
                # first reading, token half + 1 the restatement's s_1, tokens half + 2.. its rest
                first.append(nll[:, 1:half])
                restated.append(nll[:, half + 1:])
    finally:
        model.train(was_training)
    return CopyTest(first_nll=float(torch.cat(first).mean()), restated_nll=float(torch.cat(restated).mean()),
                    segments=len(rows), segment_tokens=half)


# ------------------------------------------------------------------ the store's edge: held-out text in, rows out
@dataclasses.dataclass
class CopyTestConfig:
    model: str  # id, name or path of a registered model
    domains: list[str] | None = None  # None = every domain of the store
    segments: int = 64  # segments per domain: 64 x 63 targets = ~4k NLLs each way, ~10 s for SmolLM2 on 2 cores
    segment_tokens: int = SEGMENT_TOKENS
    validation_fraction: float = 0.1  # pretraining's held-out split (pretrain_data.is_validation): no
    # reference model trained on these documents
    batch_size: int = 16

    def __post_init__(self) -> None:
        from datacomp.config_checks import between, positive

        positive(self, "segments", "segment_tokens", "batch_size")
        between(self, "validation_fraction", 0, 1, strict=True)


def run_copy_test(store, config: CopyTestConfig) -> dict[str, CopyTest]:
    """The test on held-out documents of each domain under a registered model; every result is stored in
    ``copy_tests`` (a re-run replaces its rows) and returned by domain. A domain with too little held-out
    text for one segment is skipped with no row (and said so in the run's counts)."""
    from datacomp.errors import DatacompError
    from datacomp.models.loading import load_causal_lm
    from datacomp.models.pretrain_data import domain_counts, load_domain_texts, token_stream
    from datacomp.models.registry import resolve_model
    from datacomp.models.tokenizer import encode_documents, start_token_id
    from datacomp.store.runs import record_run

    record = resolve_model(store, config.model)
    available = sorted(domain_counts(store))
    domains = config.domains or available
    unknown = [d for d in domains if d not in available]
    if unknown:
        raise DatacompError(f"unknown domain(s) {', '.join(unknown)} (known: {', '.join(available) or 'none'})")
    tokens = segment_length(record.context_len, config.segment_tokens)
    results: dict[str, CopyTest] = {}
    with record_run(store, "copy_test", {**dataclasses.asdict(config), "model_id": record.model_id}) as run:
        with run.phase("load_model"):
            model, tokenizer = load_causal_lm(record.path)
        for domain in domains:
            with run.phase(f"test.{domain}"):
                # ~6 characters a token is generous for every tokenizer here: enough text for every segment
                texts = load_domain_texts(store, domain, config.validation_fraction, 0,
                                          6 * tokens * (config.segments + 1)).validation
                stream = token_stream(encode_documents(tokenizer, texts), tokenizer.eos_token_id)
                rows = restated_rows(stream, tokens, config.segments, start_token_id(tokenizer))
                result = copy_test(model, rows, config.batch_size)
            if result is None:
                run.count(f"skipped_no_heldout_text.{domain}")
                continue
            results[domain] = result
            run.count(f"segments.{domain}", result.segments)
        store_copy_tests(store, record.model_id, results, run.run_id)
    return results


def store_copy_tests(store, model_id: str, results: dict[str, CopyTest], run_id: str | None) -> None:
    """One ``copy_tests`` row per domain (a re-run of the same test replaces its row), in one transaction."""
    with store.transaction():
        for domain, result in results.items():
            store.run("models/copy_test_upsert", {
                "model_id": model_id, "domain": domain, "segment_tokens": result.segment_tokens,
                "segments": result.segments, "first_nll": result.first_nll,
                "restated_nll": result.restated_nll, "reads_context": result.reads_context, "run_id": run_id})


def copy_test_rows(store) -> list[dict[str, Any]]:
    """Every stored test with its model's name (queries/models/copy_tests.sql)."""
    return store.rows("models/copy_tests")


def verdict_by_model(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per model: the newest test of each domain (``copy_test_rows`` order), averaged over domains with the
    verdict of those means, and the domains it covers."""
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        newest.setdefault((row["model_id"], row["domain"]), row)
    by_model: dict[str, list[dict[str, Any]]] = {}
    for (model_id, _domain), row in newest.items():
        by_model.setdefault(model_id, []).append(row)
    summary = {}
    for model_id, tests in by_model.items():
        first = float(np.mean([t["first_nll"] for t in tests]))
        restated = float(np.mean([t["restated_nll"] for t in tests]))
        summary[model_id] = {"first_nll": first, "restated_nll": restated,
                             "reads_context": reads_context(first, restated),
                             "domains": sorted(t["domain"] for t in tests)}
    return summary


def verdict_text(verdict: dict[str, Any] | None) -> str:
    """``yes (3.88 -> 0.51)``: the verdict and the mean NLLs behind it; "not tested" without a test."""
    if not verdict:
        return "not tested"
    answer = "yes" if verdict["reads_context"] else "no"
    return f"{answer} ({verdict['first_nll']:.2f} -> {verdict['restated_nll']:.2f})"
