"""Rows for the scores and gaps tables, and writing one batch of them in a transaction.

A document with fewer than two tokens gets NULL metrics and a ``null_reason`` ('empty' or
'one_token'): a single token's surprisal is only the model's unconditional first-token guess, not a
property of the text, and a spread over fewer than two values is undefined. Metrics are never NaN.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from datacomp.scoring.metrics import bits_per_byte
from datacomp.store import Store
from datacomp.store.catalog import arrow_schema

MIN_TOKENS = 2

def null_reason(n_tokens: int) -> str | None:
    if n_tokens == 0:
        return "empty"
    if n_tokens < MIN_TOKENS:
        return "one_token"
    return None


def score_row(key: dict[str, Any], doc_id: str, model_id: str, n_tokens: int, n_bytes: int,
              surprisal: tuple[float, float] | None = None, entropy: tuple[float, float] | None = None,
              ) -> dict[str, Any]:
    """``key`` = window_len, stride, dtype, run_id; surprisal/entropy = (mean, std) or None for a NULL row."""
    row = {"doc_id": doc_id, "model_id": model_id, "n_tokens": n_tokens, "n_bytes": n_bytes, **key,
           "surprisal_mean": None, "surprisal_std": None, "entropy_mean": None, "entropy_std": None,
           "bits_per_byte": None, "null_reason": null_reason(n_tokens)}
    if surprisal is not None and row["null_reason"] is None:
        row["surprisal_mean"], row["surprisal_std"] = surprisal
        row["entropy_mean"], row["entropy_std"] = entropy
        row["bits_per_byte"] = bits_per_byte(surprisal[0] * n_tokens, n_bytes)
    return row


def gap_row(key: dict[str, Any], doc_id: str, encoder_id: str, decoder_id: str, method: str,
            n_tokens: int | None, bpb_enc: float | None, bpb_dec: float | None,
            kl_enc_dec: float | None = None, kl_dec_enc: float | None = None,
            js: tuple[float, float] | None = None, reason: str | None = None) -> dict[str, Any]:
    bpb_diff = bpb_enc - bpb_dec if bpb_enc is not None and bpb_dec is not None else None
    return {"doc_id": doc_id, "encoder_id": encoder_id, "decoder_id": decoder_id, "method": method,
            "n_tokens": n_tokens, **key, "kl_enc_dec": kl_enc_dec, "kl_dec_enc": kl_dec_enc,
            "js": js[0] if js else None, "js_std": js[1] if js else None, "bpb_diff": bpb_diff,
            "null_reason": reason}


def write_rows(store: Store, score_rows: list[dict[str, Any]], gap_rows: list[dict[str, Any]]) -> None:
    """Insert (or replace) one batch's rows in a single transaction: all land or none do."""
    if not score_rows and not gap_rows:
        return
    # the columns as the DDL declares them (store/catalog.py), less those the store fills (scored_at)
    scores = pa.Table.from_pylist(score_rows, schema=arrow_schema(store, "scores", defaults=False))
    gaps = pa.Table.from_pylist(gap_rows, schema=arrow_schema(store, "gaps", defaults=False))
    with store.transaction():
        # fixed relation names the SQL in queries/scoring/insert_*.sql reads from
        store.con.register("score_rows", scores)
        store.con.register("gap_rows", gaps)
        try:
            if score_rows:
                store.run("scoring/insert_scores")
            if gap_rows:
                store.run("scoring/insert_gaps")
        finally:
            store.con.unregister("score_rows")
            store.con.unregister("gap_rows")
