"""Token-budget batches over length-sorted segments (the shared rule in datacomp/length_batches.py),
right-padded into tensors."""

from __future__ import annotations

import dataclasses
from typing import Iterator, Sequence

import torch

from datacomp import length_batches
from datacomp.scoring.windows import Segment


def token_budget_batches(segments: Sequence[Segment], token_budget: int, padding_slack: float = 0.2,
                         padding_floor: int = 16) -> Iterator[list[Segment]]:
    """Windows in length-sorted token-budget batches (length_batches.token_budget_batches; ties by
    document then position)."""
    return length_batches.token_budget_batches(segments, token_budget, length=lambda s: len(s.input_ids),
                                               tiebreak=lambda s: s.doc, padding_slack=padding_slack,
                                               padding_floor=padding_floor)


@dataclasses.dataclass
class PaddedBatch:
    """Right-padded input ids plus the scored positions, flattened.

    ``rows``/``cols`` index the positions whose next-token prediction is scored, ``targets`` are those
    next tokens and ``docs`` the document each belongs to. Right padding with a causal model means real
    tokens never attend to padding, so no attention mask is needed; padded positions are never scored.
    """

    input_ids: torch.Tensor   # (B, T) long
    rows: torch.Tensor        # (M,) long
    cols: torch.Tensor        # (M,) long
    targets: torch.Tensor     # (M,) long
    docs: torch.Tensor        # (M,) long
    n_real_tokens: int        # non-padding tokens fed to the model


def pad_batch(batch: Sequence[Segment], pad_id: int) -> PaddedBatch:
    width = max(len(s.input_ids) for s in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    rows, cols, targets, docs = [], [], [], []
    for r, segment in enumerate(batch):
        ids = torch.tensor(segment.input_ids, dtype=torch.long)
        input_ids[r, : len(ids)] = ids
        n = segment.n_scored
        rows.append(torch.full((n,), r, dtype=torch.long))
        cols.append(torch.arange(segment.score_from, segment.score_from + n, dtype=torch.long))
        targets.append(ids[segment.score_from + 1:])
        docs.append(torch.full((n,), segment.doc, dtype=torch.long))
    return PaddedBatch(input_ids, torch.cat(rows), torch.cat(cols), torch.cat(targets), torch.cat(docs),
                       sum(len(s.input_ids) for s in batch))
