"""Train/eval splits of a slice by document id: a document lands in exactly one side.

Members are ordered by sha256("<seed>:<doc_id>") and the first round(fraction * n) go to eval (at least
one and at most n - 1 when n >= 2), so a split depends only on the slice, the fraction and the seed,
never on ingestion order. Both sides keep the parent's rank order (a curriculum stays a curriculum).
"""

from __future__ import annotations

import dataclasses
import hashlib

from datacomp.curation.slices import (SliceResult, SliceSpec, check_slice_name, existing_identical,
                                      members_table, require_slice, slice_members, store_slices)
from datacomp.config_checks import between
from datacomp.errors import ConfigError, DatacompError
from datacomp.store import Store
from datacomp.store.runs import record_run


@dataclasses.dataclass
class SplitConfig:
    slice: str                       # the slice to split
    eval_fraction: float = 0.2       # a common hold-out share; eval gets round(fraction * n) documents
    seed: int = 0
    train_name: str | None = None    # default: <slice>/train
    eval_name: str | None = None     # default: <slice>/eval
    replace: bool = False            # rebuild slices of these names made differently

    def __post_init__(self) -> None:
        between(self, "eval_fraction", 0, 1, strict=True)
        for field in ("train_name", "eval_name"):
            if getattr(self, field) is not None:
                check_slice_name(getattr(self, field), field)
        if (self.train_name or f"{self.slice}/train") == (self.eval_name or f"{self.slice}/eval"):
            raise ConfigError("eval_name", f"{self.eval_name!r} is the train slice's name too: they must differ")


def split_key(doc_id: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{doc_id}".encode()).hexdigest()


def eval_count(n: int, fraction: float) -> int:
    """round(fraction * n), kept within [1, n - 1] so neither side is empty."""
    return min(max(round(fraction * n), 1), n - 1)


def split_doc_ids(doc_ids: list[str], fraction: float, seed: int) -> tuple[set[str], set[str]]:
    """(train, eval) sets of doc ids: disjoint, together all of ``doc_ids``."""
    ordered = sorted(set(doc_ids), key=lambda doc_id: split_key(doc_id, seed))
    n_eval = eval_count(len(ordered), fraction)
    return set(ordered[n_eval:]), set(ordered[:n_eval])


def split_slice(store: Store, config: SplitConfig) -> tuple[SliceResult, SliceResult]:
    train_name = config.train_name or f"{config.slice}/train"
    eval_name = config.eval_name or f"{config.slice}/eval"
    parent = require_slice(store, config.slice)
    if parent["n_members"] < 2:
        raise DatacompError(f"slice {config.slice!r} has {parent['n_members']} member(s); a split needs at least 2")
    params = {"slice": config.slice, "slice_run": parent["run_id"], "eval_fraction": config.eval_fraction,
              "seed": config.seed}
    specs = {side: SliceSpec(kind="split", definition=f"split:{side}", params=params, parent=config.slice,
                             description=f"{side} side of {config.slice} (eval fraction {config.eval_fraction}, "
                                         f"seed {config.seed})")
             for side in ("train", "eval")}
    existing = [existing_identical(store, name, specs[side], config.replace)
                for side, name in (("train", train_name), ("eval", eval_name))]
    if all(row is not None for row in existing):
        return (SliceResult(train_name, existing[0]["n_members"], False, "split"),
                SliceResult(eval_name, existing[1]["n_members"], False, "split"))
    with record_run(store, "split", config, seed=config.seed) as run:
        members = slice_members(store, config.slice)
        train_ids, eval_ids = split_doc_ids([m["doc_id"] for m in members], config.eval_fraction, config.seed)
        train = [m["doc_id"] for m in members if m["doc_id"] in train_ids]  # parent rank order
        held_out = [m["doc_id"] for m in members if m["doc_id"] in eval_ids]
        n_train, n_eval = store_slices(store, [(train_name, members_table(train), specs["train"]),
                                               (eval_name, members_table(held_out), specs["eval"])], run.run_id)
        run.count("train", n_train)
        run.count("eval", n_eval)
    return (SliceResult(train_name, n_train, True, "split"), SliceResult(eval_name, n_eval, True, "split"))
