"""Per-domain means of a scoring run's encoder, decoder and gap metrics (queries/scoring/by_domain.sql)."""

from __future__ import annotations

from typing import Any

from datacomp.store import Store


def domain_summary(store: Store, encoder_id: str, decoder_id: str, window: int, stride: int,
                   dtype: str = "float32") -> list[dict[str, Any]]:
    """One row per (corpus, domain): document counts, mean entropy / surprisal of each model,
    token-weighted bits per byte, and mean KL both ways, JS and bpb difference."""
    return store.rows("scoring/by_domain", {"encoder_id": encoder_id, "decoder_id": decoder_id,
                                            "window_len": window, "stride": stride, "dtype": dtype})
