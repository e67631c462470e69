"""How many context tokens an evaluation lets every system read (the cap), and what truncation cuts below it.

The cap is min(requested, model window): the window is the smallest ``max_position_embeddings`` of the
models that read the context (the decoder, and the compressor's encoder), since the context's positions
must exist in them. QA defaults to ``QA_CONTEXT_TOKENS`` (2048) where the window allows it, else the
window: compressors then read the whole context up to the cap (SAC in its 510-token chunks, the
autoencoder per segment, COMI whole), whatever length they were trained on. Other tasks keep their
short default (a compressor's own ``max_context_tokens``, else the window up to 512): their targets
restate or continue the context, and decoding thousands of tokens per example is not a CPU job. The decoder
reads the prompt and the answer after the context, so a context at the very cap puts those a few positions
past the window (rotary models extrapolate; the cap states the window so a reader can tell).

Below the cap no question is dropped: ``answer_outside_truncation`` counts the QA examples whose earliest
gold answer ends past the tokens truncation keeps (its budget, from the start of the context).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from datacomp.errors import ConfigError

QA_CONTEXT_TOKENS = 2048      # the QA default where the models allow it: a few SQuAD paragraphs, a paper's start
DOCUMENT_CONTEXT_TOKENS = 512  # other tasks without a compressor: SAC's and ICAE's segment


@dataclasses.dataclass(frozen=True)
class ContextCap:
    tokens: int   # context tokens every system reads at most
    window: int | None  # the smallest position limit of the models reading the context (None: unknown)
    note: str     # how the cap was chosen, in one sentence (evaluate prints it, the run records it)


def context_cap(task: str, requested: int | None, windows: dict[str, int | None],
                compressor_tokens: int | None = None) -> ContextCap:
    """The cap for ``task``: ``requested`` (--context-tokens) or the task's default, at most the smallest
    of ``windows`` (model label -> position limit). A compressor's ``compressor_tokens`` (what it was
    trained on) is the default and the limit for tasks other than qa."""
    if requested is not None and requested < 1:
        raise ConfigError("context_tokens", f"must be >= 1, not {requested}")
    known = {label: int(w) for label, w in windows.items() if w}
    label, window = min(known.items(), key=lambda kv: kv[1]) if known else (None, None)
    if task != "qa" and compressor_tokens is not None and requested is not None and requested > compressor_tokens:
        raise ConfigError("context_tokens", f"{requested} exceeds the compressor's max_context_tokens "
                                            f"{compressor_tokens} (only task qa reads past what a compressor trained "
                                            "on)")
    if requested is not None:
        wanted, origin = requested, f"--context-tokens {requested}"
    elif task == "qa":
        wanted, origin = QA_CONTEXT_TOKENS, f"the qa default {QA_CONTEXT_TOKENS}"
    elif compressor_tokens is not None:
        wanted, origin = compressor_tokens, f"the compressor's max_context_tokens {compressor_tokens}"
    else:
        wanted, origin = DOCUMENT_CONTEXT_TOKENS, f"the default {DOCUMENT_CONTEXT_TOKENS}"
    if window is None:
        return ContextCap(wanted, None, f"context cap {wanted} tokens ({origin}; model window unknown)")
    if wanted > window:
        return ContextCap(window, window, f"context cap {window} tokens: {origin} exceeds the {label} window "
                                          f"of {window} positions")
    return ContextCap(wanted, window, f"context cap {wanted} tokens ({origin}; {label} window {window})")


def answer_outside_truncation(examples: Sequence[Any], rows: Sequence[dict[str, Any]], compressor_id: str | None,
                              ratio: float) -> dict[str, Any] | None:
    """QA examples whose answer lies past what truncation keeps: {"n", "of", "example_ids"}. Truncation's
    budget per example is the kept count of its ``truncate`` row when there is one, else the compressor's
    slot count (the budget truncate would get), else ceil(n / ratio). None for tasks without answer spans."""
    from datacomp.evaluation.baselines import budget_tokens

    needed = {e.example_id: e.answer_tokens for e in examples if getattr(e, "answer_tokens", None) is not None}
    if not needed:
        return None
    kept: dict[str, int] = {}
    for source in (None, compressor_id, "truncate"):   # later sources win
        for row in rows:
            if source is None:
                kept.setdefault(row["example_id"], budget_tokens(int(row["n_context_tokens"]), ratio))
            elif row["system"] == source and row["n_slots"] is not None:
                kept[row["example_id"]] = int(row["n_slots"])
    outside = sorted(x for x, tokens in needed.items() if x in kept and kept[x] < tokens)
    return {"n": len(outside), "of": len(needed), "example_ids": outside}
