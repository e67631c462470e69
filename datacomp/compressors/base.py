"""The shared interface of every compressor (kvpress style: a dataclass config + one module per method).

A compressor turns a context into a ``Memory`` - either soft embeddings in the decoder's input space
(autoencoder, COMI, meanpool) or per-layer key/value slots with their global positions (SAC) - and a
frozen (or LoRA-tuned) decoder reads that Memory followed by a prompt. Training, checkpoints, evaluation and
the store are shared code; a new method is one file plus one line in ``REGISTRY`` (see registry.py).

Text layout (the same for every method, so that baselines can use it too): the compressor reads the
context tokens only (``tokenize(example.context)``, truncated to ``max_context_tokens``); the decoder reads
``[memory, prompt tokens, target tokens, eos]`` and is trained on the target tokens + eos only. The prompt
wording (e.g. SAC's ``"### Question:\\n ... \\n### Answer:\\n"``) is the task data's choice, read verbatim
from ``TaskExample.prompt``. Token counts use the decoder's tokenizer (encoder and decoder share one).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, ClassVar

import torch
import torch.nn.functional as F


@dataclasses.dataclass
class Memory:
    """What the decoder receives instead of the context tokens.

    Exactly one of ``embeddings`` (batch, slots, hidden) or ``past_key_values`` (a transformers
    DynamicCache holding, per layer, keys and values at ``slots`` positions, rotary already applied) is set.
    ``positions`` (batch, slots) are the position ids the slots occupy; the decoder's own tokens start at
    ``next_position``. ``n_context_tokens`` counts the (truncated) context with the decoder's tokenizer.
    """

    n_context_tokens: int
    positions: torch.Tensor
    next_position: int
    embeddings: torch.Tensor | None = None
    past_key_values: Any = None

    @property
    def n_slots(self) -> int:
        return int(self.positions.shape[-1])

    @property
    def ratio(self) -> float:
        """Compression ratio r = context tokens / slots (tokens counted with the decoder's tokenizer)."""
        return self.n_context_tokens / max(self.n_slots, 1)

    def nbytes(self) -> int:
        """Bytes handed to the decoder (embeddings, or every layer's key and value tensors)."""
        if self.embeddings is not None:
            return self.embeddings.numel() * self.embeddings.element_size()
        total = 0
        for layer in cache_layers(self.past_key_values):
            for tensor in layer:
                total += tensor.numel() * tensor.element_size()
        return total


def cache_layers(cache: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(key, value) per layer from a transformers Cache or a legacy tuple."""
    if cache is None:
        return []
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    return [(k, v) for k, v in cache]


def cache_from_layers(layers: list[tuple[torch.Tensor, torch.Tensor]]):
    """A fresh DynamicCache holding these (key, value) tensors; the decoder may append to it freely."""
    from transformers import DynamicCache

    cache = DynamicCache()
    for index, (keys, values) in enumerate(layers):
        cache.update(keys, values, index)
    return cache


def additive_causal_mask(n_memory: int, n_new: int, dtype: torch.dtype) -> torch.Tensor:
    """(1, 1, n_new, n_memory + n_new) additive mask: every memory slot visible, causal among new tokens."""
    blocked = torch.ones(n_new, n_new, dtype=torch.bool).triu(diagonal=1)
    mask = torch.zeros(n_new, n_memory + n_new, dtype=dtype)
    mask[:, n_memory:].masked_fill_(blocked, torch.finfo(dtype).min)
    return mask[None, None]


@dataclasses.dataclass
class CompressorConfig:
    """Fields every method shares; each method subclasses it with its own (documented) defaults."""

    ratio: float = 4.0             # target compression ratio r (context tokens per slot)
    max_context_tokens: int = 128  # contexts are truncated to this many decoder tokens (reference LMs' context)
    max_target_tokens: int = 128   # targets (reconstruction = the whole context) are truncated likewise
    seed: int = 0                  # seeds the new parameters (LoRA, memory tokens, adapters) at build time


@dataclasses.dataclass
class EncodedExample:
    """A TaskExample as decoder-tokenizer ids, each (1, length) LongTensor; target ends with eos."""

    context_ids: torch.Tensor
    prompt_ids: torch.Tensor
    target_ids: torch.Tensor


@dataclasses.dataclass
class DecoderOutput:
    """``logits`` (1, len(input_ids) + 1, vocab): logits[:, i] predicts input token i, the last one predicts
    the token after the inputs. ``loss`` is the mean next-token loss over labels != -100 (None without labels)."""

    logits: torch.Tensor
    loss: torch.Tensor | None = None


@dataclasses.dataclass
class Prediction:
    """One greedy answer with its timings (seconds) and the memory it was decoded from."""

    text: str
    token_ids: list[int]
    memory: Memory
    compress_seconds: float
    decode_seconds: float
    target_nll: float | None = None  # mean -log P(target + eos | memory, prompt), nats per token
    target_ids: list[int] | None = None  # the tokens target_nll scored (target, truncated, then eos)


class Compressor(torch.nn.Module):
    """Base class. Subclasses set ``method`` and ``config_class``, build ``self.decoder`` and implement
    ``compress`` (and ``decoder_prefix`` if the decoder needs more than the memory's embeddings).

    Shared contract:
    - ``compress(context_ids, query_ids=None) -> Memory``: context_ids is (1, n) LongTensor of the
      decoder tokenizer's ids; query-aware methods (COMI) also read query_ids (1, q).
    - ``decoder_forward(memory, input_ids, labels=None) -> DecoderOutput``: the decoder on [memory, input_ids].
    - ``generate(memory, prompt_ids, max_new_tokens)``: greedy decoding with an incremental cache.
    - ``training_loss(example)``: the method's training objective on one TaskExample.
    - ``encode_example(example)`` / ``predict(example)``: the text-level entry points evaluation uses.
    """

    method: ClassVar[str] = ""
    config_class: ClassVar[type[CompressorConfig]] = CompressorConfig

    def __init__(self, config: CompressorConfig, tokenizer, encoder_path: str, decoder_path: str):
        super().__init__()
        self.config = config
        self.tokenizer = tokenizer
        self.encoder_path = str(encoder_path)
        self.decoder_path = str(decoder_path)
        self.decoder: Any = None

    # ---- what each method provides -------------------------------------------------------------
    def compress(self, context_ids: torch.Tensor, query_ids: torch.Tensor | None = None) -> Memory:
        raise NotImplementedError

    def decoder_prefix(self, memory: Memory):
        """(prefix embeddings the decoder reads first, a cache to start from, the prefix's first position).
        Soft-prompt methods: the memory embeddings at positions 0..k-1 and an empty cache."""
        from transformers import DynamicCache

        return memory.embeddings, DynamicCache(), 0

    # ---- shared ---------------------------------------------------------------------------------
    @property
    def eos_token_id(self) -> int:
        return int(self.tokenizer.eos_token_id)

    def tokenize(self, text: str, max_tokens: int | None = None) -> torch.Tensor:
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        if max_tokens is not None:
            ids = ids[:max_tokens]
        return torch.tensor([ids], dtype=torch.long, device=self.device)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def encode_example(self, example) -> EncodedExample:
        """Token ids of a TaskExample: context truncated to max_context_tokens, target to max_target_tokens
        (then eos appended, so a trained decoder learns where to stop). A reconstruction target is the
        truncated context itself (what the compressor read), whatever ``example.target`` holds."""
        context = self.tokenize(example.context, self.config.max_context_tokens)
        if context.shape[1] == 0:
            from datacomp.errors import DatacompError

            raise DatacompError(f"example {example.example_id}: field 'context' is empty")
        prompt = self.tokenize(example.prompt)
        if example.task == "reconstruction":  # restate what the compressor actually read
            target = context[:, : self.config.max_target_tokens]
        else:
            target = self.tokenize(example.target, self.config.max_target_tokens)
        target = torch.cat([target, target.new_tensor([[self.eos_token_id]])], dim=1)
        return EncodedExample(context, prompt, target)

    def decoder_forward(self, memory: Memory, input_ids: torch.Tensor,
                        labels: torch.Tensor | None = None) -> DecoderOutput:
        """Run the decoder on [prefix(memory), input_ids]; labels (1, len(input_ids)) with -100 = ignored."""
        logits, _, _ = self._decoder_run(memory, input_ids)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits[0, :-1].float(), labels[0], ignore_index=-100)
        return DecoderOutput(logits=logits, loss=loss)

    def _decoder_run(self, memory: Memory, input_ids: torch.Tensor):
        prefix, cache, start = self.decoder_prefix(memory)
        embed = self.decoder.get_input_embeddings()
        pieces = [prefix] if prefix is not None else []
        pieces.append(embed(input_ids))
        inputs = torch.cat(pieces, dim=1)
        n_prefix = inputs.shape[1] - input_ids.shape[1]
        if n_prefix < 1:
            raise ValueError("the decoder needs at least one prefix position before the inputs")
        logits, cache = self._decoder_step(inputs, cache, start, keep=input_ids.shape[1] + 1)
        return logits, cache, start + inputs.shape[1]

    def _decoder_step(self, inputs_embeds: torch.Tensor, cache, start: int, keep: int = 1):
        """The decoder on inputs_embeds after ``cache``, at positions start...; logits of the last ``keep``."""
        n_memory = cache.get_seq_length() if cache is not None else 0
        n_new = inputs_embeds.shape[1]
        positions = torch.arange(start, start + n_new, device=inputs_embeds.device)[None]
        mask = additive_causal_mask(n_memory, n_new, inputs_embeds.dtype).to(inputs_embeds.device)
        out = self.decoder(inputs_embeds=inputs_embeds, attention_mask=mask, position_ids=positions,
                           past_key_values=cache, use_cache=True, logits_to_keep=keep)
        return out.logits, out.past_key_values

    def answer_loss(self, memory: Memory, prompt_ids: torch.Tensor, target_ids: torch.Tensor) -> torch.Tensor:
        """-log P(target | memory, prompt), mean over target tokens (prompt tokens carry no loss)."""
        input_ids = torch.cat([prompt_ids, target_ids], dim=1)
        labels = input_ids.clone()
        labels[:, : prompt_ids.shape[1]] = -100
        return self.decoder_forward(memory, input_ids, labels).loss

    def training_loss(self, example) -> torch.Tensor:
        """Default objective: next-token loss on the target given the compressed context and the prompt
        (the prompt is also the query of query-aware methods)."""
        encoded = self.encode_example(example)
        memory = self.compress(encoded.context_ids, encoded.prompt_ids)
        return self.answer_loss(memory, encoded.prompt_ids, encoded.target_ids)

    @torch.no_grad()
    def generate(self, memory: Memory, prompt_ids: torch.Tensor, max_new_tokens: int = 32,
                 eos_token_id: int | None = -1) -> list[int]:
        """Greedy decoding after [memory, prompt], reusing the decoder's cache between steps.
        ``eos_token_id`` -1 (default) = the tokenizer's eos; None = never stop early."""
        if eos_token_id == -1:
            eos_token_id = self.eos_token_id
        logits, cache, position = self._decoder_run(memory, prompt_ids)
        generated: list[int] = []
        embed = self.decoder.get_input_embeddings()
        for _ in range(max_new_tokens):
            next_id = int(logits[0, -1].argmax().item())
            if eos_token_id is not None and next_id == eos_token_id:
                break
            generated.append(next_id)
            step = embed(prompt_ids.new_tensor([[next_id]]))
            logits, cache = self._decoder_step(step, cache, position)
            position += 1
        return generated

    @torch.no_grad()
    def predict(self, example, max_new_tokens: int = 32) -> Prediction:
        """Compress the example's context (the prompt is the query), then decode greedily after the prompt."""
        encoded = self.encode_example(example)
        began = time.perf_counter()
        memory = self.compress(encoded.context_ids, encoded.prompt_ids)
        compressed = time.perf_counter()
        ids = self.generate(memory, encoded.prompt_ids, max_new_tokens=max_new_tokens)
        finished = time.perf_counter()
        text = self.tokenizer.decode(ids, skip_special_tokens=True)
        target_nll = float(self.answer_loss(memory, encoded.prompt_ids, encoded.target_ids))
        return Prediction(text, ids, memory, compressed - began, finished - compressed, target_nll,
                          encoded.target_ids[0].tolist())

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """The parameters training changes (what checkpoints and saved compressors hold)."""
        return {name: p.detach().clone() for name, p in self.named_parameters() if p.requires_grad}

    def load_trainable_state_dict(self, state: dict[str, torch.Tensor], source: str = "state") -> None:
        from datacomp.errors import DatacompError

        params = dict(self.named_parameters())
        expected = {name for name, p in params.items() if p.requires_grad}
        missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
        if missing or unexpected:
            raise DatacompError(f"{source}: parameters do not match a {self.method} compressor built with this "
                                f"config (missing {missing[:3]}, unexpected {unexpected[:3]})")
        with torch.no_grad():
            for name, value in state.items():
                if params[name].shape != value.shape:
                    raise DatacompError(f"{source}: parameter {name} has shape {tuple(value.shape)}, "
                                        f"expected {tuple(params[name].shape)}")
                params[name].copy_(value)


def freeze(module: torch.nn.Module) -> torch.nn.Module:
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    module.eval()
    return module
