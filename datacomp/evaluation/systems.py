"""One batch of examples through every system of an evaluation: the compressor, then each text baseline
and training-free system (training_free.py), all through ``decoding.nll_and_greedy`` (one prefill and one
KV cache per batch and system).

Baseline names: ``full``, ``none``, ``truncate``, ``drop``, ``selective`` run on the plain decoder. When
the compressor tunes its decoder (COMI's LoRA, the autoencoder's ``decoder_lora``), ``full@tuned``,
``none@tuned`` and ``truncate@tuned`` run the same baselines through that tuned decoder as well, so its
gain can be read against the decoder it actually used; the plain decoder is the same module with its
adapters switched off (no second copy).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from datacomp.compressors.batch import EncodedExample
from datacomp.compressors.decoding import nll_and_greedy, token_prefix, token_surprisal
from datacomp.compressors.lora import adapters_enabled
from datacomp.evaluation.baselines import (
    TUNED_SUFFIX,
    base_name,
    budget_tokens,
    embedding_bytes,
    kept_positions,
)
from datacomp.evaluation.latency import Stopwatch, to_ms
from datacomp.evaluation.training_free import SYSTEMS, is_training_free
from datacomp.models.tokenizer import start_token_id

TUNED_BASELINES = ("full", "none", "truncate")


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


def tunes_decoder(compressor) -> bool:
    """The compressor's decoder carries LoRA adapters (COMI, the autoencoder with decoder_lora): switching
    them off gives the plain decoder, on the tuned one."""
    from datacomp.compressors.lora import has_lora

    return compressor is not None and has_lora(compressor.decoder)


def baseline_systems(baselines: Sequence[str], compressor) -> list[str]:
    tuned = [f"{b}{TUNED_SUFFIX}" for b in TUNED_BASELINES if b in baselines] if tunes_decoder(compressor) else []
    return list(baselines) + tuned


def compressor_outputs(setup, encoded: Sequence[EncodedExample], max_new_tokens: int) -> list[Output]:
    predictions = setup.compressor.predict(list(encoded), max_new_tokens=max_new_tokens)
    return [Output(system=setup.compressor_id, method=setup.method, text=p.text, n_context_tokens=p.n_context_tokens,
                   n_slots=p.n_slots, memory_bytes=p.memory_bytes, compress_ms=to_ms(p.compress_seconds),
                   decode_ms=to_ms(p.decode_seconds), target_nll=p.target_nll, target_ids=p.target_ids)
            for p in predictions]


def baseline_outputs(setup, system: str, examples: Sequence, encoded: Sequence[EncodedExample],
                     budgets: Sequence[int], max_new_tokens: int, seed: int,
                     surprisal: Sequence[Sequence[float]] | None, scoring_seconds: float = 0.0) -> list[Output]:
    """One baseline on a batch, on the plain decoder (or the tuned one for ``<name>@tuned``);
    ``scoring_seconds`` (Selective Context's surprisal pass) is part of its selection time."""
    name = base_name(system)
    selecting = Stopwatch(setup.precision.device)
    with selecting.time():
        kept = [kept_positions(name, len(e.context_ids), budget, f"{seed}:{x.example_id}",
                               surprisal[row] if surprisal is not None else None)
                for row, (x, e, budget) in enumerate(zip(examples, encoded, budgets))]
    rows = [[e.context_ids[i] for i in positions] for e, positions in zip(encoded, kept)]
    return decode_kept_tokens(setup, system, name, encoded, rows, selecting.ms + 1000 * scoring_seconds,
                              max_new_tokens, tuned=system.endswith(TUNED_SUFFIX))


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


def context_surprisal(setup, encoded: Sequence[EncodedExample]) -> tuple[list[list[float]], float]:
    """Selective Context's scores: each context token's surprisal under the plain decoder, and the
    seconds the pass took."""
    watch = Stopwatch(setup.precision.device)
    with adapters_enabled(setup.decoder, False), setup.precision.autocast(), watch.time():
        values = token_surprisal(setup.decoder, [e.context_ids for e in encoded], start_token_id(setup.tokenizer))
    return values, watch.seconds


def batch_outputs(setup, config, examples: Sequence, encoded: Sequence[EncodedExample], max_new_tokens: int,
                  pending: Sequence[set[str]], systems: Sequence[str]) -> list[list[Output]]:
    """Per example, the outputs of the systems still pending for it. The compressor runs whenever any
    system of the batch is pending (the baselines' budgets are its slot counts)."""
    outputs: list[list[Output]] = [[] for _ in examples]
    budgets = [budget_tokens(len(e.context_ids), setup.ratio) for e in encoded]
    if setup.compressor is not None:
        compressed = compressor_outputs(setup, encoded, max_new_tokens)
        budgets = [o.n_slots for o in compressed]
        for row, output in enumerate(compressed):
            if setup.compressor_id in pending[row]:
                outputs[row].append(output)
    baselines = [s for s in systems if s != setup.compressor_id]
    surprisal: Any = None
    for system in baselines:
        rows = [row for row in range(len(examples)) if system in pending[row]]
        if not rows:
            continue
        if is_training_free(system):
            results = SYSTEMS[system].outputs(setup, system, [encoded[r] for r in rows], [budgets[r] for r in rows],
                                              max_new_tokens)
            for row, output in zip(rows, results):
                outputs[row].append(output)
            continue
        scoring = 0.0
        if system == "selective":
            surprisal, scoring = context_surprisal(setup, [encoded[r] for r in rows])
        results = baseline_outputs(setup, system, [examples[r] for r in rows], [encoded[r] for r in rows],
                                   [budgets[r] for r in rows], max_new_tokens, config.seed,
                                   surprisal if system == "selective" else None, scoring)
        for row, output in zip(rows, results):
            outputs[row].append(output)
    return outputs
