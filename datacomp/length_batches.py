"""Length-sorted batches of any items with a length: the one bucketing rule of scoring (windows),
compressor training (micro-batches) and evaluation (examples).

Sorting by length puts rows of similar length together, so padding wastes little compute; the budget
bounds rows x padded length (the activations' size), not the number of rows, so a batch of short
items holds many rows and a batch of long ones few. Longest first, so a budget too large for memory
fails on the first batch rather than hours in.
"""

from __future__ import annotations

from typing import Callable, Iterator, Sequence, TypeVar

Item = TypeVar("Item")


def token_budget_batches(items: Sequence[Item], token_budget: int, length: Callable[[Item], int],
                         tiebreak: Callable[[Item], object] = lambda item: 0, padding_slack: float = 0.2,
                         padding_floor: int = 16, max_rows: int | None = None) -> Iterator[list[Item]]:
    """Greedy batches of items sorted by length (longest first, ties by ``tiebreak`` then input order).

    An item joins the current batch while rows x longest row stays within ``token_budget``, the batch
    has fewer than ``max_rows`` rows, and its own padding (longest row - its length) is at most
    ``padding_slack`` x the longest row or ``padding_floor`` tokens, whichever is more: a few items of
    very different lengths are not padded to the longest (on a CPU padding costs as much as real
    tokens), while short rows still share batches. An item longer than the budget is a batch of its own.
    """
    order = sorted(range(len(items)), key=lambda i: (-length(items[i]), tiebreak(items[i]), i))
    batch: list[Item] = []
    longest = 0
    for i in order:
        item = items[i]
        size = length(item)
        if batch and (longest * (len(batch) + 1) > token_budget
                      or (max_rows is not None and len(batch) >= max_rows)
                      or longest - size > max(padding_slack * longest, padding_floor)):
            yield batch
            batch, longest = [], 0
        batch.append(item)
        longest = max(longest, size)
    if batch:
        yield batch


def row_batches(lengths: Sequence[int], max_rows: int) -> list[list[int]]:
    """Indices cut into batches of at most ``max_rows``, longest first (no token budget, no slack):
    evaluation and training micro-batches, where the row count is the user's setting."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[start:start + max_rows] for start in range(0, len(order), max(1, max_rows))]
