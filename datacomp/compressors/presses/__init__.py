"""KV-cache presses: training-free compressors that drop cached keys/values after the prefill.

A press sees one example's prefill cache restricted to its context positions and returns, per layer and
key/value head, the ``budget`` context positions whose keys and values stay (ascending). The decoding
engine (``decoding.pressed_prefix``) runs the prefill, hands the press what it asked for and builds the
decoder's cache from the kept slots; the start token and the preamble (the layout's worked examples or
chat head) are kept whole, as every text baseline reads them whole, so a press's budget counts context KV
slots only, the unit SAC's anchors are counted in.

``queries`` says which attention a press reads: ``None`` (keys only), ``"prompt"`` (the attention the last
prompt tokens pay the context during a prefill of [context, prompt]: SnapKV's observation window) or
``"last_context"`` (the attention of the last context token: TOVA). A query-aware press thus sees the
question only through those attention weights; the decoder then reads the prompt again over the pressed
cache, like every other system, so no answer token is computed from the uncompressed context.
"""

from __future__ import annotations

from datacomp.compressors.presses.base import KVPress, PressInputs, top_positions
from datacomp.compressors.presses.knorm import KNorm
from datacomp.compressors.presses.snapkv import SnapKV
from datacomp.compressors.presses.streamingllm import StreamingLLM
from datacomp.compressors.presses.tova import TOVA

PRESSES: dict[str, type] = {
    "streamingllm": StreamingLLM,
    "knorm": KNorm,
    "snapkv": SnapKV,
    "tova": TOVA,
}

__all__ = ["KVPress", "PRESSES", "PressInputs", "get_press", "top_positions"]


def get_press(name: str) -> KVPress:
    if name not in PRESSES:
        raise ValueError(f"unknown KV press {name!r}; known: {', '.join(PRESSES)}")
    return PRESSES[name]()
