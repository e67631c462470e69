"""The shared interface of every compressor (kvpress style: a dataclass config + one module per method).

A compressor is handed its models (it never loads them: registry.build_compressor does, once) and
turns a batch of encoded examples (batch.py) into a ``Memory``: per row, soft embeddings in the
decoder's input space (autoencoder, COMI, meanpool) or per-layer key/value slots with their global
positions (SAC). ``decoder_prefix`` says how the decoder reads that memory (a ``decoding.Prefix``);
then the one batched teacher-forced NLL and the one batched greedy decoder of ``decoding.py`` run the
decoder, for compressors and text baselines alike.

Decoder layout: ``[prefix, prompt tokens, target tokens]``; the loss is on the target tokens from
``loss_start`` on. Soft-prompt methods put the tokenizer's BOS first when it has one (``decoder_bos``;
Llama-3-style checkpoints lose much quality without it), then the memory slots. Token counts use the
decoder's tokenizer (encoder and decoder share one).

A new method implements ``compress`` (and ``decoder_prefix`` if a soft prompt is not enough, or
``training_loss`` for a different objective) in one file, plus one line in ``registry.REGISTRY``. What the
rest of the toolkit needs to know about a method lives on its class, and nowhere else: ``config_class``
(its config and checks), ``default_task`` (what `train` trains without ``--task``), ``encoder_refusal``
(why its encoder cannot be registered as a model, or None when ``trained_encoder_lm`` returns one); whether
it tunes its decoder is read off the built model (``tunes_decoder``) and stored with the compressor's row.
The CLI's choices, the exporter and the report's SQL read these, never a list of method names.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Sequence

import torch

from datacomp.compressors.batch import EncodedExample, encode_examples
from datacomp.compressors.decoding import KV, Prefix, nll_and_greedy, teacher_forced_nll
from datacomp.config_checks import at_least, choices, one_of, positive
from datacomp.models.precision import Precision, resolve_precision


@dataclasses.dataclass
class Memory:
    """What the decoder receives instead of the context tokens, per row of a batch.

    Exactly one of ``embeddings`` (per row (slots, hidden)) or ``cache`` (per row, per layer (key,
    value) of shape (kv heads, slots, head dim), rotary already applied) is set. ``positions`` (per row
    (slots,)) are the position ids the slots occupy; ``next_position`` is where the decoder's own
    tokens start. ``n_context_tokens`` counts each (cut) context with the decoder's tokenizer.
    """

    n_context_tokens: list[int]
    positions: list[torch.Tensor]
    next_position: list[int]
    embeddings: list[torch.Tensor] | None = None
    cache: list[list[KV]] | None = None
    overhead_slots: list[int] | None = None  # per row: slots standing for no context token (SAC's anchors
                                             # over BOS / prefix / template, its sink), in bytes, not in ratio

    def n_slots(self, row: int) -> int:
        return int(self.positions[row].shape[-1])

    def context_slots(self, row: int) -> int:
        """Slots that stand for context tokens: what the ratio counts and the baselines' budget matches
        (they too get BOS and the preamble on top of their budget)."""
        return self.n_slots(row) - (self.overhead_slots[row] if self.overhead_slots is not None else 0)

    def ratio(self, row: int) -> float:
        """Compression ratio r = context tokens / context slots (tokens counted with the decoder's tokenizer)."""
        return self.n_context_tokens[row] / max(self.context_slots(row), 1)

    def nbytes(self, row: int) -> int:
        """Bytes handed to the decoder for one row (embeddings, or every layer's keys and values)."""
        if self.embeddings is not None:
            tensor = self.embeddings[row]
            return tensor.numel() * tensor.element_size()
        return sum(t.numel() * t.element_size() for kv in self.cache[row] for t in kv)


@dataclasses.dataclass
class CompressorConfig:
    """Fields every method shares; each method subclasses it with its own (documented) defaults."""

    ratio: float = 4.0             # target compression ratio r (context tokens per slot)
    max_context_tokens: int = 128  # contexts are cut to this many decoder tokens (train sets it from the model)
    max_target_tokens: int = 128   # targets (reconstruction = the whole context) are cut likewise
    seed: int = 0                  # seeds the new parameters (LoRA, memory tokens, adapters) at build time
    decoder_bos: bool = True       # soft-prompt decoders read BOS first when the tokenizer has one
    continuation_eos: bool = True  # append eos to continuation targets (ICAE's LM objective does not)
    continuation_loss_skip: int = 0  # leading continuation target tokens without loss (ICAE: 8)
    prompt_format: str = "auto"    # prompts.py: on instruct tokenizers fewshot for qa, chat for span-recall; else plain

    def __post_init__(self) -> None:
        """Checks of the values alone, before any model loads; a method's config adds its own after these
        (its ``Literal`` fields are checked here)."""
        from datacomp.compressors.prompts import PROMPT_FORMATS

        choices(self)
        at_least(self, "ratio", 1)
        positive(self, "max_context_tokens", "max_target_tokens")
        at_least(self, "continuation_loss_skip", 0)
        one_of("prompt_format", self.prompt_format, PROMPT_FORMATS)


@dataclasses.dataclass
class Prediction:
    """One row's greedy answer, what it was decoded from, and its share of the batch's timings."""

    text: str
    token_ids: list[int]
    n_context_tokens: int
    n_slots: int                    # context slots (Memory.context_slots): the ratio's denominator
    memory_bytes: int               # everything handed to the decoder, overhead slots included
    compress_seconds: float         # the batch's compression time / rows in the batch
    decode_seconds: float           # the batch's prefill + decoding time / rows in the batch
    target_nll: float | None = None  # mean -log P(target | memory, prompt) over target tokens, nats
    target_ids: list[int] | None = None


class Compressor(torch.nn.Module):
    """Base class. Subclasses set ``method`` and ``config_class``, wrap ``self.decoder`` (frozen or LoRA)
    and implement ``compress``."""

    method: ClassVar[str] = ""
    config_class: ClassVar[type[CompressorConfig]] = CompressorConfig
    default_task: ClassVar[str] = "continuation"   # the task `train` trains on when none is named
    encoder_refusal: ClassVar[str | None] = None   # why the encoder is not a causal LM (`models add
                                                   # --from-compressor` refuses it); None: trained_encoder_lm

    def __init__(self, config: CompressorConfig, tokenizer, encoder_path: str, decoder_path: str):
        super().__init__()
        self.config = config
        self.tokenizer = tokenizer
        self.encoder_path = str(encoder_path)
        self.decoder_path = str(decoder_path)
        self.decoder: Any = None
        self.precision: Precision = resolve_precision("fp32", "cpu")

    # ---- what each method provides -------------------------------------------------------------
    def compress(self, batch: Sequence[EncodedExample]) -> Memory:
        raise NotImplementedError

    def decoder_prefix(self, memory: Memory, batch: Sequence[EncodedExample]) -> Prefix:
        """Soft-prompt methods: [BOS], the preamble (worked examples or a chat template's head), then the memory,
        at positions 0, 1, ..."""
        embeds, positions, nexts = [], [], []
        embed = self.decoder.get_input_embeddings()
        for row, slots in enumerate(memory.embeddings):
            head = self.decoder_head_ids(batch[row])
            if head:
                ids = torch.tensor(head, dtype=torch.long, device=embed.weight.device)
                slots = torch.cat([embed(ids).to(slots.dtype), slots], dim=0)
            embeds.append(slots)
            positions.append(torch.arange(slots.shape[0], device=slots.device))
            nexts.append(int(slots.shape[0]))
        return Prefix(embeds, positions, nexts)

    # ---- shared ---------------------------------------------------------------------------------
    def encode(self, examples: Sequence) -> list[EncodedExample]:
        return encode_examples(examples, self.tokenizer, self.config)

    def decoder_head_ids(self, example: EncodedExample) -> list[int]:
        """The tokens the decoder reads before the memory: BOS (``decoder_bos``, when the tokenizer has one
        and the preamble does not already start with it), then the example's preamble."""
        bos = self.tokenizer.bos_token_id
        head = list(example.preamble_ids)
        if self.config.decoder_bos and bos is not None and head[:1] != [int(bos)]:
            head = [int(bos)] + head
        return head

    @property
    def eos_token_id(self) -> int | None:
        eos = self.tokenizer.eos_token_id
        return None if eos is None else int(eos)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def set_precision(self, precision: Precision) -> "Compressor":
        from datacomp.models.precision import apply_precision

        apply_precision(self, precision)
        self.precision = precision
        return self

    def row_nll(self, batch: Sequence[EncodedExample], memory: Memory | None = None) -> torch.Tensor:
        """(B,) teacher-forced mean NLL of each row's target after its memory and prompt."""
        memory = memory if memory is not None else self.compress(batch)
        return teacher_forced_nll(self.decoder, self.decoder_prefix(memory, batch), [r.prompt_ids for r in batch],
                                  [r.target_ids for r in batch], [r.loss_start for r in batch])

    def training_loss(self, batch: Sequence[EncodedExample]) -> torch.Tensor:
        """Default objective: mean over rows of the next-token loss on the target given the memory and
        the prompt (so a batch's loss is the mean of its examples' losses)."""
        return self.row_nll(batch).mean()

    @torch.no_grad()
    def predict(self, batch: Sequence[EncodedExample], max_new_tokens: int = 32) -> list[Prediction]:
        """Compress a batch of contexts, then per row: the target NLL and the greedy answer after the
        prompt, from one prefill (decoding.nll_and_greedy)."""
        from datacomp.models.latency import Stopwatch

        compressing, decoding = Stopwatch(self.device), Stopwatch(self.device)
        with self.precision.autocast():
            with compressing.time():
                memory = self.compress(batch)
            with decoding.time():
                prefix = self.decoder_prefix(memory, batch)
                nll, ids = nll_and_greedy(self.decoder, prefix, [r.prompt_ids for r in batch],
                                          [r.target_ids for r in batch], max_new_tokens, self.eos_token_id)
        rows = len(batch)
        return [Prediction(text=self.tokenizer.decode(ids[row], skip_special_tokens=True), token_ids=ids[row],
                           n_context_tokens=memory.n_context_tokens[row], n_slots=memory.context_slots(row),
                           memory_bytes=memory.nbytes(row), compress_seconds=compressing.seconds / rows,
                           decode_seconds=decoding.seconds / rows, target_nll=nll[row],
                           target_ids=list(batch[row].target_ids))
                for row in range(rows)]

    def trained_encoder_lm(self):
        """The trained encoder as a causal LM (adapters on), for methods whose encoder is one (the autoencoder,
        SAC): evaluation scores the windows under it (window_scores.tenc_*). None for the others."""
        return None

    def tunes_decoder(self) -> bool:
        """The decoder carries LoRA adapters (COMI, the autoencoder with decoder_lora): switching them off gives
        the plain decoder, on the tuned one. Read off the model, so no method has to declare it."""
        from datacomp.compressors.lora import has_lora

        return self.decoder is not None and has_lora(self.decoder)

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
