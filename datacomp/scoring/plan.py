"""What a scoring run will do, resolved against the store before any model loads: the models, the window and
stride, the gap method, and the documents still to score. Both engines (in-process, engine.py, and Ray,
ray_engine.py) start here, so they score the same documents under the same identity."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from datacomp.errors import ConfigError
from datacomp.models.precision import resolve_precision
from datacomp.models.registry import ModelRecord, resolve_model
from datacomp.scoring.config import MAX_DEFAULT_WINDOW, ScoreConfig, parse_shard
from datacomp.scoring.windows import check_window

MISMATCH_WARNING = ("encoder {enc} and decoder {dec} have different tokenizers ({enc_tok} vs {dec_tok}): "
                    "a token-level gap (KL/JS) is impossible; storing gaps with method='bpb_diff' "
                    "(bits per byte of the encoder minus the decoder's) instead")


@dataclasses.dataclass
class ScoringPlan:
    records: list[ModelRecord]       # encoder first (or the one model)
    want_gap: bool
    gap_method: str | None           # 'token', 'bpb_diff' or None (one model)
    window: int
    stride: int
    dtype: str                       # the resolved precision's torch name (score rows' dtype column)
    warnings: list[str]
    resolved: dict[str, Any]         # what the run records as its config
    precision: Any = None            # models.precision.Precision the forwards run in (config.dtype resolved)

    @property
    def model_ids(self) -> list[str]:
        """Distinct model ids (one model as encoder and decoder is scored once)."""
        return list(dict.fromkeys(r.model_id for r in self.records))

    def key(self, run_id: str) -> dict[str, Any]:
        """The columns every row of this run shares besides its document and model."""
        return {"window_len": self.window, "stride": self.stride, "dtype": self.dtype, "run_id": run_id}


def warn(message: str) -> None:
    """Warnings go to stderr as they happen (and into the summary), whoever called the engine."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def plan_scoring(store, config: ScoreConfig) -> ScoringPlan:
    """Validate ``config`` and resolve it against the store; unknown names are errors before any model loads."""
    from datacomp.corpus.names import require_corpora, require_slice_name

    precision = resolve_precision(config.dtype)
    require_corpora(store, config.corpora)
    refs, want_gap = config.model_refs()
    records = [resolve_model(store, ref) for ref in refs]
    window, stride = resolve_window(config, records)
    gap_method = None
    warnings = []
    if want_gap:
        same = records[0].tokenizer_id is not None and records[0].tokenizer_id == records[1].tokenizer_id
        gap_method = "token" if same else "bpb_diff"
        if not same:
            warnings.append(MISMATCH_WARNING.format(
                enc=records[0].name, dec=records[1].name,
                enc_tok=records[0].tokenizer_id, dec_tok=records[1].tokenizer_id))
            warn(warnings[-1])
    if config.slice is not None:
        require_slice_name(store, config.slice, "--slice")
    resolved = {"config": dataclasses.asdict(config), "model_ids": [r.model_id for r in records],
                "window": window, "stride": stride, "gap_method": gap_method,
                "first_token": "prefix BOS (else EOS) and score every text token"}
    return ScoringPlan(records=records, want_gap=want_gap, gap_method=gap_method, window=window, stride=stride,
                       dtype=precision.torch_name, warnings=warnings, resolved=resolved, precision=precision)


def resolve_window(config: ScoreConfig, records: list[ModelRecord]) -> tuple[int, int]:
    """The window (default: the smallest model context, capped) and stride (default: half the window)."""
    contexts = [r.context_len for r in records if r.context_len]
    window = config.window
    if window is None:
        if not contexts:
            raise ConfigError("window", f"is needed: model {records[0].name} does not state its context length "
                                        "(max_position_embeddings)")
        window = min(min(contexts), MAX_DEFAULT_WINDOW)
    for record in records:
        if record.context_len and window > record.context_len:
            raise ConfigError("window", f"{window} exceeds the context length {record.context_len} "
                                        f"of model {record.name}")
    stride = config.stride if config.stride is not None else max(1, window // 2)
    check_window(window, stride)
    return window, stride


def select_documents(store, config: ScoreConfig, plan: ScoringPlan) -> list[dict[str, Any]]:
    """The documents the run covers (corpora, slice, shard, limit), each with ``done`` when all its rows exist."""
    shard_index, shard_count = parse_shard(config.shard)
    return store.rows("scoring/docs_to_score", {
        "corpora": list(config.corpora), "slice": config.slice,
        "shard_index": shard_index, "shard_count": shard_count,
        "limit": config.limit, "model_ids": plan.model_ids, "window_len": plan.window, "stride": plan.stride,
        "dtype": plan.dtype,
        "encoder_id": plan.records[0].model_id if plan.want_gap else None,
        "decoder_id": plan.records[1].model_id if plan.want_gap else None})


def nothing_selected_warning(config: ScoreConfig) -> str:
    shard_index, shard_count = parse_shard(config.shard)
    return (f"no documents in corpora {', '.join(config.corpora) or '(any)'}"
            f"{' and slice ' + config.slice if config.slice else ''} (shard "
            f"{shard_index}/{shard_count}); nothing to score")
