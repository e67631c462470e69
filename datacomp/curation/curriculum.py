"""Curricula: a slice's members ordered by a score (e.g. encoder entropy, easiest first), optionally
cut into K equal-size buckets, stored as a new slice whose rank is the curriculum order."""

from __future__ import annotations

import dataclasses

from datacomp.curation.slices import (SliceResult, SliceSpec, check_slice_name, existing_identical,
                                      members_table, require_slice, store_slice)
from datacomp.config_checks import one_of, positive
from datacomp.errors import ConfigError, DatacompError
from datacomp.store import Store
from datacomp.store.runs import record_run

SCORE_COLUMNS = ("entropy_mean", "surprisal_mean", "bits_per_byte", "entropy_std", "surprisal_std", "n_tokens")
DOCUMENT_COLUMNS = ("n_chars", "n_bytes")  # need no model


@dataclasses.dataclass
class CurriculumConfig:
    slice: str                       # the slice to order
    name: str                        # the new slice
    by: str = "entropy_mean"         # METHODS: encoder entropy is the difficulty signal the study varies
    model: str | None = None         # the scoring model (id, name or path); not needed for n_chars/n_bytes
    descending: bool = False         # ascending = low entropy (easy) first, the usual curriculum
    buckets: int | None = None       # K equal-size buckets (sizes differ by at most one), or none
    window_len: int | None = None    # only scores computed with this window; default: the latest row
    replace: bool = False            # rebuild a slice of this name made differently

    def __post_init__(self) -> None:
        check_slice_name(self.name)
        one_of("by", self.by, SCORE_COLUMNS + DOCUMENT_COLUMNS)
        if self.by in SCORE_COLUMNS and not self.model:
            raise ConfigError("model", f"is needed: {{by}} {self.by} is a score (of which scoring model?)",
                              others=("by",))
        positive(self, "buckets", "window_len")


def bucket_of(rank: int, n: int, buckets: int) -> int:
    """Bucket of the member at 0-based ``rank`` of ``n``: floor(rank * K / n), so sizes differ by <= 1."""
    return rank * buckets // n


def build_curriculum(store: Store, config: CurriculumConfig) -> SliceResult:
    parent = require_slice(store, config.slice)
    model_id = None
    if config.by in SCORE_COLUMNS:
        from datacomp.models.registry import resolve_model

        model_id = resolve_model(store, config.model).model_id
    spec = SliceSpec(
        kind="curriculum", definition="curriculum", parent=config.slice,
        params={"slice": config.slice, "slice_run": parent["run_id"], "by": config.by, "model": model_id,
                "descending": config.descending, "buckets": config.buckets, "window_len": config.window_len},
        description=f"{config.slice} ordered by {config.by} {'descending' if config.descending else 'ascending'}"
                    + (f" in {config.buckets} buckets" if config.buckets else ""))
    if (row := existing_identical(store, config.name, spec, config.replace)) is not None:
        return SliceResult(config.name, row["n_members"], created=False, kind=spec.kind)
    with record_run(store, "curriculum", config) as run:
        rows = store.rows("curation/member_scores", {"name": config.slice, "model": model_id, "by": config.by,
                                                     "window_len": config.window_len})
        missing = [row["doc_id"] for row in rows if row["score"] is None]
        if missing:
            raise DatacompError(f"{len(missing)} of {len(rows)} members of slice {config.slice!r} have no "
                                f"{config.by} under model {config.model!r} (e.g. {missing[0][:16]}...): "
                                "score them first with `datacomp score`")
        sign = -1.0 if config.descending else 1.0
        ordered = sorted(rows, key=lambda row: (sign * row["score"], row["doc_id"]))
        n = len(ordered)
        buckets = [bucket_of(rank, n, config.buckets) for rank in range(n)] if config.buckets else None
        members = members_table([row["doc_id"] for row in ordered], buckets=buckets)
        count = store_slice(store, config.name, members, spec, run.run_id)
        run.count("members", count)
    return SliceResult(config.name, count, created=True, kind=spec.kind)
