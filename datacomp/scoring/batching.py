"""Token-budget batches over length-sorted segments, right-padded into tensors.

Sorting by length puts rows of similar length together, so padding wastes little compute; the budget
bounds rows x padded length (the activations' size), not the number of rows, so a batch of short
documents holds many rows and a batch of full windows few. Longest first, so a budget too large for
memory fails on the first batch rather than hours in.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator, Sequence

import torch

from datacomp.scoring.windows import Segment


def token_budget_batches(segments: Sequence[Segment], token_budget: int, padding_slack: float = 0.2,
                         padding_floor: int = 16) -> Iterator[list[Segment]]:
    """Greedy batches of segments sorted by length (longest first, ties by document then position).

    A segment joins the current batch while rows x longest row stays within ``token_budget`` and its own
    padding (longest row - its length) is at most ``padding_slack`` x the longest row or
    ``padding_floor`` tokens, whichever is more: a few documents of very different lengths are not
    padded to the longest (on a CPU padding costs as much as real tokens, batching gains little), while
    short rows still share batches. A segment longer than the budget is a batch of its own.
    """
    order = sorted(range(len(segments)), key=lambda i: (-len(segments[i].input_ids), segments[i].doc, i))
    batch: list[Segment] = []
    longest = 0
    for i in order:
        segment = segments[i]
        length = len(segment.input_ids)
        if batch and (longest * (len(batch) + 1) > token_budget
                      or longest - length > max(padding_slack * longest, padding_floor)):
            yield batch
            batch, longest = [], 0
        batch.append(segment)
        longest = max(longest, length)
    if batch:
        yield batch


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
