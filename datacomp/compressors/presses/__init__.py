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

from typing import Any

from datacomp.entries import load_entry

# name -> "module:Class", imported on first use (the names are read without torch: a pipeline file's
# evaluate stage is checked when the file is read). A new press is its file plus one line here.
PRESSES: dict[str, str] = {
    "streamingllm": "datacomp.compressors.presses.streamingllm:StreamingLLM",
    "knorm": "datacomp.compressors.presses.knorm:KNorm",
    "snapkv": "datacomp.compressors.presses.snapkv:SnapKV",
    "tova": "datacomp.compressors.presses.tova:TOVA",
}

__all__ = ["KVPress", "PRESSES", "PressInputs", "get_press", "top_positions"]


def get_press(name: str):
    if name not in PRESSES:
        raise ValueError(f"unknown KV press {name!r}; known: {', '.join(PRESSES)}")
    return load_entry(PRESSES[name])()


def __getattr__(name: str) -> Any:   # the shared types, from base.py on first use
    if name in ("KVPress", "PressInputs", "top_positions"):
        return load_entry(f"datacomp.compressors.presses.base:{name}")
    raise AttributeError(name)
