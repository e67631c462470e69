"""Windows score every token once with the documented context; batches respect the token budget."""

from __future__ import annotations

import pytest

from datacomp.errors import DatacompError
from datacomp.scoring.batching import pad_batch, token_budget_batches
from datacomp.scoring.windows import check_window, windows


def scored_targets(segments):
    """(target position in [prefix]+tokens, left context length) for every scored position."""
    return [(segment.input_ids[j + 1], j + 1)
            for segment in segments for j in range(segment.score_from, len(segment.input_ids) - 1)]


@pytest.mark.parametrize("n_tokens, window, stride", [(1, 8, 4), (7, 8, 4), (8, 8, 4), (9, 8, 4),
                                                       (50, 8, 3), (50, 8, 7), (100, 16, 1), (33, 32, 16)])
def test_every_token_scored_once_with_the_most_context_the_stride_allows(n_tokens, window, stride):
    tokens = list(range(1, n_tokens + 1))  # token value = its position in [prefix] + tokens
    segments = windows(0, tokens, 0, window, stride)
    scored = scored_targets(segments)
    assert sorted(t for t, _ in scored) == tokens
    for target, context in scored:
        if target < window:
            assert context == target  # first window: everything before it
        else:
            assert window - stride <= context <= window - 1
    assert all(len(s.input_ids) <= window for s in segments)
    assert all(len(s.input_ids) == window for s in segments[1:])
    assert segments[0].input_ids[0] == 0 and segments[0].score_from == 0


def test_window_and_stride_validation():
    check_window(8, 7)
    with pytest.raises(DatacompError, match="^stride must be between 1 and window - 1 = 7, got 8"):
        check_window(8, 8)
    with pytest.raises(DatacompError, match="^window must be at least 2"):
        check_window(1, 1)


def test_token_budget_batches_are_length_sorted_and_within_budget():
    segments = []
    for doc, n in enumerate([3, 40, 7, 7, 100, 12, 1, 60, 25, 25, 2]):
        segments.extend(windows(doc, list(range(1, n + 1)), 0, 32, 16))
    batches = list(token_budget_batches(segments, token_budget=96))
    assert sorted(map(id, (s for b in batches for s in b))) == sorted(map(id, segments))
    lengths = [len(s.input_ids) for b in batches for s in b]
    assert lengths == sorted(lengths, reverse=True)
    for batch in batches:
        assert len(batch) * max(len(s.input_ids) for s in batch) <= 96
    assert max(len(b) for b in batches) > 3  # short rows share a batch


def test_segment_longer_than_budget_is_its_own_batch():
    segments = windows(0, list(range(1, 30)), 0, 32, 16)
    assert [len(b) for b in token_budget_batches(segments, token_budget=10)] == [1]


def test_pad_batch_masks_padding_out_of_the_scored_positions():
    a = windows(0, [5, 6, 7], 1, 8, 4)[0]
    b = windows(1, [9], 1, 8, 4)[0]
    padded = pad_batch([a, b], pad_id=99)
    assert padded.input_ids.tolist() == [[1, 5, 6, 7], [1, 9, 99, 99]]
    assert list(zip(padded.rows.tolist(), padded.cols.tolist())) == [(0, 0), (0, 1), (0, 2), (1, 0)]
    assert padded.targets.tolist() == [5, 6, 7, 9] and padded.docs.tolist() == [0, 0, 0, 1]
    assert padded.n_real_tokens == 6


def test_documents_of_very_different_lengths_are_not_padded_to_the_longest():
    lengths = [300, 290, 200, 120, 100, 20, 12, 9, 5]
    segments = [windows(doc, list(range(1, n)), 0, 512, 256)[0] for doc, n in enumerate(lengths)]
    batches = list(token_budget_batches(segments, token_budget=100_000))
    assert [[len(s.input_ids) for s in b] for b in batches] == [[300, 290], [200], [120, 100], [20, 12, 9, 5]]
    for batch in batches:
        longest = len(batch[0].input_ids)
        assert all(longest - len(s.input_ids) <= max(0.2 * longest, 16) for s in batch)
