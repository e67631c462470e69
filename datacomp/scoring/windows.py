"""Cutting a tokenised document into the windows a model scores, each token exactly once.

First token: the document's tokens are preceded by one *prefix token* (the tokenizer's BOS token,
else its EOS token, which is how GPT-2-style models mark a document boundary), so every token of the
text is predicted and scored, the first one from the prefix alone. The scored text is therefore the
whole document and bits per byte divide by the document's full UTF-8 byte count. A tokenizer with
neither token is refused (see ``prefix_token_id``).

Rolling windows (``window`` = tokens the model sees at once, ``stride`` = new tokens scored per window
after the first, 1 <= stride <= window - 1). With the sequence ``[prefix] + tokens`` of length L:
the first window is positions [0, min(window, L)) and scores the targets 1 .. end-1; each next window
ends ``stride`` positions later, b = min(b_prev + stride, L), and starts as far left as the window
allows, a = b - window, so the tokens it scores (b_prev .. b-1) have at least window - stride - 1
tokens of left context. Every window after the first is exactly ``window`` long.
"""

from __future__ import annotations

import dataclasses

from datacomp.errors import ConfigError, DatacompError


@dataclasses.dataclass(frozen=True)
class Segment:
    """One forward pass row: ``input_ids`` and the first position whose next-token prediction is scored.

    Positions ``score_from .. len(input_ids) - 2`` are scored; their targets are
    ``input_ids[score_from + 1 :]``. ``doc`` is the document's index in its block.
    """

    doc: int
    input_ids: tuple[int, ...]
    score_from: int

    @property
    def n_scored(self) -> int:
        return len(self.input_ids) - 1 - self.score_from


def check_window(window: int, stride: int) -> None:
    if window < 2:
        raise ConfigError("window", f"must be at least 2 tokens, got {window}")
    if not 1 <= stride <= window - 1:
        raise ConfigError("stride", f"must be between 1 and window - 1 = {window - 1}, got {stride}")


def prefix_token_id(tokenizer, model_name: str = "the model") -> int:
    """The token put before every document: BOS if the tokenizer has one, else EOS (``start_token_id``, the
    rule pretraining and decoding use), with an error naming the model when there is neither."""
    from datacomp.models.tokenizer import start_token_id

    try:
        return start_token_id(tokenizer)
    except ValueError:
        pass
    raise DatacompError(f"tokenizer of {model_name} has neither a BOS nor an EOS token: the first token "
                        "of a document cannot be scored; add one to its tokenizer_config.json")


def windows(doc: int, tokens: list[int], prefix_id: int, window: int, stride: int) -> list[Segment]:
    """The segments that score every token of ``tokens`` once, with the most left context the stride allows."""
    sequence = [prefix_id, *tokens]
    length = len(sequence)
    end = min(window, length)
    out = [Segment(doc, tuple(sequence[:end]), 0)]
    while end < length:
        new_end = min(end + stride, length)
        start = new_end - window
        # targets end .. new_end-1 are predicted from positions end-1 .. new_end-2
        out.append(Segment(doc, tuple(sequence[start:new_end]), end - 1 - start))
        end = new_end
    return out
