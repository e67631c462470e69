"""What merging compares, table by table: which columns may differ between two copies of one row, and
which other rows a row needs (its document, its model...). The merge itself is ``store/merge.py``.

A row's identity is its table's primary key, read from the catalog, so a table added by a later schema
migration merges with the default rule: every column except ``run_id``, timestamps (``*_at``) and latencies
(``*_ms``) must agree.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class TableRule:
    ignore: tuple[str, ...] = ()          # columns two copies of one row may disagree on (beyond the defaults)
    compare: bool = True                  # False: a row whose key is present is the same row (runs)
    references: tuple[tuple[str, str], ...] = ()  # (column, parent table): a new row's parent must exist


def ignored_by_default(column: str) -> bool:
    """Who wrote a row and when, and how long it took, differ between two runs of the same computation."""
    return column == "run_id" or column.endswith("_at") or column.endswith("_ms")


RULES: dict[str, TableRule] = {
    # the same corpus name ingested on two machines: its files' paths and description may differ
    "corpora": TableRule(ignore=("source", "description")),
    # model_id is the name plus the weights' hash: where the folder lives and how it was described may differ
    "models": TableRule(ignore=("path", "mixture", "train_info", "source")),
    # doc_id hashes the text: the first occurrence's corpus, domain and locator stay, as ingestion keeps them
    "documents": TableRule(ignore=("corpus", "domain", "source", "meta")),
    "runs": TableRule(compare=False),
    "slices": TableRule(ignore=("description",)),
    "slice_members": TableRule(references=(("slice_id", "slices"), ("doc_id", "documents"))),
    # a trained compressor's folder and timings differ between machines; its identity is in compressor_id
    "compressors": TableRule(ignore=("checkpoint", "train_info"),
                             references=(("encoder_id", "models"), ("decoder_id", "models"))),
    "scores": TableRule(references=(("doc_id", "documents"), ("model_id", "models"))),
    "gaps": TableRule(references=(("doc_id", "documents"), ("encoder_id", "models"), ("decoder_id", "models"))),
    "evaluations": TableRule(references=(("doc_id", "documents"), ("decoder_id", "models"),
                                         ("compressor_id", "compressors"))),
    "window_scores": TableRule(references=(("doc_id", "documents"), ("encoder_id", "models"),
                                           ("decoder_id", "models"))),
    "copy_tests": TableRule(references=(("model_id", "models"),)),
}

# Parents before children, so a row's document or model is in the store by the time the row is classified;
# tables not named here (added by later migrations) come after, in name order.
ORDER = ("corpora", "models", "documents", "runs", "slices", "slice_members", "compressors", "scores", "gaps",
         "evaluations", "window_scores", "copy_tests")

NOT_MERGED = {
    "schema_version": "the store's own migration record",
    "pipeline_stages": "which pipeline stages ran in that store (re-run the pipeline against the merged store)",
    "quarantine": "ingestion records numbered per store",
    "duplicates": "ingestion records without a key",
}


def rule(table: str) -> TableRule:
    return RULES.get(table, TableRule())


def merge_order(tables: list[str]) -> list[str]:
    """The mergeable tables among ``tables``, parents first."""
    mergeable = [t for t in tables if t not in NOT_MERGED]
    known = [t for t in ORDER if t in mergeable]
    return known + sorted(t for t in mergeable if t not in ORDER)
