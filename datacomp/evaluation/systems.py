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

from typing import Any, Sequence

from datacomp.compressors.batch import EncodedExample
from datacomp.compressors.decoding import token_surprisal
from datacomp.compressors.lora import adapters_enabled
from datacomp.evaluation.baselines import TUNED_SUFFIX, base_name, budget_tokens, kept_positions
from datacomp.evaluation.outputs import Output, decode_kept_tokens
from datacomp.evaluation.training_free import SYSTEMS, is_training_free
from datacomp.models.latency import Stopwatch, to_ms
from datacomp.models.tokenizer import start_token_id

TUNED_BASELINES = ("full", "none", "truncate")


def tunes_decoder(compressor) -> bool:
    """The compressor's decoder carries LoRA adapters (``Compressor.tunes_decoder``); no compressor: no."""
    return compressor is not None and compressor.tunes_decoder()


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
