"""What a system hands back for one example before scoring (``Output``), and the decoding step the text
baselines and the prompt compressors share: the decoder reading kept context tokens. Below systems.py and
training_free.py, which both build outputs here."""

from __future__ import annotations

import dataclasses
from typing import Sequence

from datacomp.compressors.batch import EncodedExample
from datacomp.compressors.decoding import nll_and_greedy, token_prefix
from datacomp.compressors.lora import adapters_enabled
from datacomp.models.latency import Stopwatch
from datacomp.models.tokenizer import start_token_id


@dataclasses.dataclass
class Output:
    """One system's answer on one example, before scoring."""

    system: str
    method: str
    text: str
    n_context_tokens: int
    n_slots: int
    memory_bytes: int
    compress_ms: float
    decode_ms: float
    target_nll: float | None = None
    target_ids: list[int] | None = None


def decode_kept_tokens(setup, system: str, method: str, encoded: Sequence[EncodedExample],
                       kept: Sequence[Sequence[int]], compress_ms: float, max_new_tokens: int,
                       tuned: bool = False) -> list[Output]:
    """The decoder reading [start, preamble, kept context tokens, prompt] per row (a text baseline, or a
    prompt compressor's kept text); ``compress_ms`` is the batch's selection time."""
    decoder = setup.decoder
    decoding = Stopwatch(setup.precision.device)
    with adapters_enabled(decoder, tuned), setup.precision.autocast(), decoding.time():
        prefix = token_prefix(decoder, kept, start_token_id(setup.tokenizer), [e.preamble_ids for e in encoded])
        nll, ids = nll_and_greedy(decoder, prefix, [e.prompt_ids for e in encoded], [e.target_ids for e in encoded],
                                  max_new_tokens, setup.tokenizer.eos_token_id)
    slots = [len(row) for row in kept]
    return decoded_outputs(setup, system, method, encoded, ids, nll, slots,
                           [embedding_bytes(decoder, n) for n in slots], compress_ms, decoding.ms)


def decoded_outputs(setup, system: str, method: str, encoded: Sequence[EncodedExample], ids, nll,
                    slots: Sequence[int], memory: Sequence[int], compress_ms: float, decode_ms: float
                    ) -> list[Output]:
    """A batch's outputs of one system, its batch times shared equally among the rows (latency.py)."""
    rows = len(encoded)
    return [Output(system=system, method=method, text=setup.tokenizer.decode(ids[row], skip_special_tokens=True),
                   n_context_tokens=len(encoded[row].context_ids), n_slots=slots[row], memory_bytes=memory[row],
                   compress_ms=compress_ms / rows, decode_ms=decode_ms / rows, target_nll=nll[row],
                   target_ids=list(encoded[row].target_ids))
            for row in range(rows)]


def embedding_bytes(model, n_tokens: int) -> int:
    """Bytes of ``n_tokens`` input embeddings of ``model``: what a text baseline hands the decoder."""
    weight = model.get_input_embeddings().weight
    return n_tokens * weight.shape[1] * weight.element_size()
