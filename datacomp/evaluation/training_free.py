"""Training-free compressors as systems of an evaluation, beside the text baselines (DESIGN.md: a KV press
acts on the prefill cache inside decoding.py; a prompt compressor returns kept text).

Every system here reads the same encoded examples and gets the same budget b as the budgeted baselines
(the compressor's slot count on that example, else ceil(n / r)), counted in its own unit
(``budget_unit``): a KV press keeps b context KV slots per layer and head (``kv_slots``, SAC's unit: one
slot = one position's keys and values in every layer), a prompt compressor keeps about b decoder tokens
(``tokens``, the text baselines' unit). Memory is what the decoder is handed: a press's kept context KV
bytes, a prompt compressor's kept token embeddings (as a text baseline's). Compress time is the press's
prefill and selection, or the prompt compressor's run; loading a prompt compressor's model is not timed
(the decoder's loading is not either).

A new system is one file and one registry line: a press in compressors/presses/ and its line in
``PRESSES`` (every press is a system here under its name), a prompt compressor beside llmlingua.py and
its line in ``SYSTEMS``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from datacomp.compressors.presses import PRESSES
from datacomp.errors import ConfigError
from datacomp.models.latency import Stopwatch


@dataclasses.dataclass(frozen=True)
class KVPressSystem:
    press: str                      # a name of compressors.presses.PRESSES
    budget_unit: str = "kv_slots"

    def outputs(self, setup, system: str, encoded: Sequence, budgets: Sequence[int], max_new_tokens: int) -> list:
        from datacomp.compressors.decoding import nll_and_greedy, pressed_prefix
        from datacomp.compressors.lora import adapters_enabled
        from datacomp.compressors.presses import get_press
        from datacomp.models.tokenizer import start_token_id

        press, decoder = get_press(self.press), setup.decoder
        selecting, decoding = Stopwatch(setup.precision.device), Stopwatch(setup.precision.device)
        with adapters_enabled(decoder, False), setup.precision.autocast():
            with selecting.time():
                prefix, kept = pressed_prefix(decoder, [e.context_ids for e in encoded], start_token_id(setup.tokenizer),
                                              [e.preamble_ids for e in encoded], [e.prompt_ids for e in encoded], press,
                                              budgets)
            with decoding.time():
                nll, ids = nll_and_greedy(decoder, prefix, [e.prompt_ids for e in encoded],
                                          [e.target_ids for e in encoded], max_new_tokens, setup.tokenizer.eos_token_id)
        slots = [int(positions.shape[-1]) for positions in kept]
        memory = [kv_bytes(cache, n) for cache, n in zip(prefix.cache, slots)]
        from datacomp.evaluation.outputs import decoded_outputs   # torch: only when a system runs

        return decoded_outputs(setup, system, system, encoded, ids, nll, slots, memory, selecting.ms, decoding.ms)


def kv_bytes(cache: Sequence, n_slots: int) -> int:
    """Bytes of ``n_slots`` positions' keys and values over every layer and head of a row's cache."""
    return n_slots * sum(keys.shape[0] * keys.shape[-1] * keys.element_size()
                         + values.shape[0] * values.shape[-1] * values.element_size() for keys, values in cache)


@dataclasses.dataclass(frozen=True)
class PromptSystem:
    loader: str                     # "module:function" building the compressor from an EvalSetup
    budget_unit: str = "tokens"

    def outputs(self, setup, system: str, encoded: Sequence, budgets: Sequence[int], max_new_tokens: int) -> list:
        from datacomp.models.tokenizer import tokenize_texts

        from datacomp.compressors.lora import adapters_enabled

        compressor = loaded_prompt_compressor(setup, system, self.loader)
        selecting = Stopwatch(setup.precision.device)
        # the plain decoder, as every baseline reads it: a decoder-tuning compressor's adapters are off here
        with selecting.time(), adapters_enabled(setup.decoder, False), setup.precision.autocast():
            texts = [compressor.compress(setup.tokenizer.decode(e.context_ids), budget)
                     for e, budget in zip(encoded, budgets)]
            kept = tokenize_texts(setup.tokenizer, texts)
        from datacomp.evaluation.outputs import decode_kept_tokens   # torch: only when a system runs

        return decode_kept_tokens(setup, system, system, encoded, kept, selecting.ms, max_new_tokens)


def loaded_prompt_compressor(setup, system: str, loader: str):
    """The setup's instance of a prompt compressor, built on first use (its model loaded once)."""
    from datacomp.entries import load_entry

    cache = setup.training_free
    if system not in cache:
        cache[system] = load_entry(loader)(setup)
    return cache[system]


def build_llmlingua(setup):
    """LLMLingua with ``setup.llmlingua_model`` (a registered causal LM's path) as its small model, else the
    evaluated decoder itself; budgets counted in the decoder's tokens either way."""
    from datacomp.compressors.llmlingua import LLMLingua

    if setup.llmlingua_model is None:
        return LLMLingua(setup.decoder, setup.tokenizer, setup.tokenizer)
    from datacomp.compressors.lora import load_lm

    model, tokenizer = load_lm(setup.llmlingua_model)
    return LLMLingua(model.requires_grad_(False).eval(), tokenizer, setup.tokenizer)


def build_llmlingua2(setup):
    from datacomp.compressors.llmlingua2 import LLMLingua2

    if setup.llmlingua2_model is None:
        raise ConfigError("llmlingua2_model", "is needed by llmlingua2 (a local token-classification model folder)")
    return LLMLingua2(setup.llmlingua2_model, setup.tokenizer, device=str(setup.precision.device))


def prompt_compressor_identity(config, setup) -> dict[str, Any]:
    """The prompt compressors' models, when they run (absent otherwise, so no other evaluation's id moves)."""
    identity: dict[str, Any] = {}
    if "llmlingua" in config.baselines:
        identity["llmlingua_model"] = setup.llmlingua_model or setup.decoder_id
    if "llmlingua2" in config.baselines:
        identity["llmlingua2_model"] = setup.llmlingua2_model
    return identity

def prompt_compressor_models(store, config) -> dict[str, str | None]:
    """LLMLingua's small LM (a registered model's path; None = the decoder) and LLMLingua-2's folder, checked
    before any example runs."""
    from pathlib import Path

    from datacomp.models.registry import resolve_model

    small = resolve_model(store, config.llmlingua_model).path if config.llmlingua_model else None
    folder = config.llmlingua2_model
    if "llmlingua2" in config.baselines:
        if not (Path(folder) / "config.json").is_file():
            raise ConfigError("llmlingua2_model", f"{folder}: no config.json there (a local model folder)")
        folder = str(Path(folder).resolve())
    return {"llmlingua_model": small, "llmlingua2_model": folder}


SYSTEMS: dict[str, Any] = {
    **{name: KVPressSystem(name) for name in PRESSES},   # every press of compressors/presses/
    "llmlingua": PromptSystem("datacomp.evaluation.training_free:build_llmlingua"),
    "llmlingua2": PromptSystem("datacomp.evaluation.training_free:build_llmlingua2"),
}


def is_training_free(system: str) -> bool:
    return system in SYSTEMS
