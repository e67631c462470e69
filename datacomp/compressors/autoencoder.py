"""ICAE-style autoencoder (METHODS.md section 4, and the framework of section 1).

The encoder LM (trainable: LoRA, or every weight for tiny models) reads each context segment followed by
k = ceil(segment length / r) learned memory tokens; its last hidden states (after the final norm) at the
memory positions, through a linear projection when the encoder's and decoder's hidden sizes differ, are
the soft prompt of the FROZEN decoder. Objectives: reconstruction (the decoder restates the context
after the memory and ``restate_prompt``) and continuation (it continues the text), mixed by
``reconstruction_share``; QA / span-recall examples give the fine-tuning loss on the answer.

What ICAE's code (getao/icae, code/icae_v2) does, and where this follows it:
- Long contexts (multi-span): ``ceil(n / segment)`` segments of equal length ``ceil(n / segments)``,
  each encoded on its own (positions restart at 0, memory tokens after the segment's text), their
  memories concatenated in order and read by the decoder at positions 0..K-1. Same here.
- The LM objective's target is the text after the context with no eos appended, and its first 8 tokens
  (``leave_tokens_for_lm``) carry no loss; the AE target gets an eos. Same here
  (``continuation_eos=False``, ``continuation_loss_skip=8``).
- LoRA on peft's default targets for the architecture (q_proj, v_proj for Llama/Mistral), alpha 32,
  r 128-512 at 7B. Here r 8 with alpha 16 (scale alpha / r = 2; ICAE's 32 / 128 is 0.25): the small
  models this toolkit trains need larger adapter updates per step.
- ICAE's decoder reads [memory, AE token, target]; here it reads [BOS, memory, restate prompt, target]
  (``decoder_bos``; the prompt text is shared with the reconstruction task data).

Choices ICAE leaves open: memory tokens are one learned vector per slot index (slot i of every segment
shares vector i), drawn from the encoder's embedding statistics.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal, Sequence

import torch

from datacomp.compressors.base import Compressor, CompressorConfig, Memory, freeze
from datacomp.compressors.batch import EncodedExample
from datacomp.compressors.example import RECONSTRUCTION_PROMPT
from datacomp.compressors.lora import add_lora, new_token_embeddings
from datacomp.config_checks import at_least, between, positive


@dataclasses.dataclass
class AutoencoderConfig(CompressorConfig):
    segment_tokens: int = 0          # context tokens per encoded segment; 0 = max_context_tokens, at most 512 (ICAE)
    encoder_training: Literal["lora", "full"] = "lora"  # "full": cheap enough for ~1M-param reference LMs
    lora_rank: int = 8               # ICAE: 128-512 at 7B; 8 is plenty for hidden sizes of 32-576
    lora_alpha: int = 16             # scale alpha / rank = 2 (ICAE's 32 / 128 = 0.25 is too timid for small LMs)
    lora_targets: str = ""           # comma-separated module names; "" = peft's default (q_proj, v_proj), as ICAE
    reconstruction_share: float = 0.5  # P(a continuation example trains reconstruction instead): ICAE mixes both
    restate_prompt: str = RECONSTRUCTION_PROMPT  # the prompt of reconstruction, shared with the task data
    decoder_lora: bool = False       # ICAE keeps the decoder frozen; True adds LoRA to it (small frozen LMs
                                     # cannot be steered by soft prompts at all - a study option, not ICAE)
    continuation_eos: bool = False   # ICAE's LM target has no eos
    continuation_loss_skip: int = 8  # ICAE's leave_tokens_for_lm

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least(self, "segment_tokens", 0)
        positive(self, "lora_rank", "lora_alpha")
        between(self, "reconstruction_share", 0, 1)


def segment_lengths(n_tokens: int, segment_tokens: int) -> list[int]:
    """ICAE's multi-span cut: ceil(n / segment_tokens) segments of ceil(n / segments) tokens (the last
    one shorter)."""
    count = math.ceil(n_tokens / segment_tokens)
    length = math.ceil(n_tokens / count)
    return [min(length, n_tokens - start) for start in range(0, n_tokens, length)]


class Autoencoder(Compressor):
    method = "autoencoder"
    config_class = AutoencoderConfig

    def __init__(self, config: AutoencoderConfig, encoder, decoder, tokenizer, encoder_path: str = "",
                 decoder_path: str = ""):
        super().__init__(config, tokenizer, encoder_path, decoder_path)
        targets = tuple(t.strip() for t in config.lora_targets.split(",") if t.strip()) or None
        if config.encoder_training == "lora":
            encoder = add_lora(encoder, config.lora_rank, config.lora_alpha, targets)
        else:
            for parameter in encoder.parameters():
                parameter.requires_grad_(True)
        self.encoder = encoder
        self.decoder = add_lora(decoder, config.lora_rank, config.lora_alpha, targets) if config.decoder_lora \
            else freeze(decoder)
        self.segment_tokens = min(config.segment_tokens or config.max_context_tokens, config.max_context_tokens)
        if not config.segment_tokens:
            self.segment_tokens = min(self.segment_tokens, 512)
        self.max_slots = math.ceil(self.segment_tokens / config.ratio)
        self.memory_tokens = new_token_embeddings(encoder, self.max_slots)
        enc_hidden, dec_hidden = encoder.config.hidden_size, decoder.config.hidden_size
        self.projection = torch.nn.Linear(enc_hidden, dec_hidden) if enc_hidden != dec_hidden \
            else torch.nn.Identity()
        from datacomp.models.tokenizer import tokenize_text

        self.restate_ids = tokenize_text(tokenizer, config.restate_prompt)

    def n_slots(self, n_tokens: int) -> int:
        return sum(math.ceil(length / self.config.ratio) for length in segment_lengths(n_tokens, self.segment_tokens))

    def trained_encoder_lm(self):
        return self.encoder

    def compress(self, batch: Sequence[EncodedExample]) -> Memory:
        """Every segment of every row in one encoder forward (right-padded: the causal mask keeps real
        tokens from seeing padding), memories regrouped per row."""
        segments: list[tuple[int, list[int]]] = []
        for row, example in enumerate(batch):
            start = 0
            for length in segment_lengths(len(example.context_ids), self.segment_tokens):
                segments.append((row, example.context_ids[start:start + length]))
                start += length
        slots = [math.ceil(len(ids) / self.config.ratio) for _, ids in segments]
        width = max(len(ids) + k for (_, ids), k in zip(segments, slots))
        embed = self.encoder.get_input_embeddings()
        device = embed.weight.device
        ids = torch.zeros(len(segments), width, dtype=torch.long, device=device)
        for index, (_, tokens) in enumerate(segments):
            ids[index, :len(tokens)] = torch.tensor(tokens, dtype=torch.long, device=device)
        embeds = embed(ids)
        is_memory = torch.zeros(len(segments), width, dtype=torch.bool, device=device)
        memory_index = torch.zeros(len(segments), width, dtype=torch.long, device=device)
        for index, ((_, tokens), k) in enumerate(zip(segments, slots)):
            is_memory[index, len(tokens):len(tokens) + k] = True
            memory_index[index, len(tokens):len(tokens) + k] = torch.arange(k, device=device)
        memory = self.memory_tokens.to(embeds.dtype)[memory_index]
        embeds = torch.where(is_memory[..., None], memory, embeds)
        positions = torch.arange(width, device=device)[None].expand(len(segments), width)
        hidden = self.encoder.model(inputs_embeds=embeds, position_ids=positions, use_cache=False).last_hidden_state
        per_row: list[list[torch.Tensor]] = [[] for _ in batch]
        for index, ((row, tokens), k) in enumerate(zip(segments, slots)):
            per_row[row].append(hidden[index, len(tokens):len(tokens) + k])
        embeddings = [self.projection(torch.cat(pieces, dim=0)) for pieces in per_row]
        return Memory(n_context_tokens=[len(e.context_ids) for e in batch],
                      positions=[torch.arange(e.shape[0], device=device) for e in embeddings],
                      next_position=[int(e.shape[0]) for e in embeddings], embeddings=embeddings)

    def training_loss(self, batch: Sequence[EncodedExample]) -> torch.Tensor:
        """Continuation rows train reconstruction instead with probability ``reconstruction_share``
        (one draw per row, in row order, from torch's CPU generator)."""
        rows = []
        for example in batch:
            if example.task == "continuation" and float(torch.rand(())) < self.config.reconstruction_share:
                target = example.context_ids[: self.config.max_target_tokens]
                eos = self.eos_token_id
                example = dataclasses.replace(example, prompt_ids=list(self.restate_ids), loss_start=0,
                                              target_ids=target + ([eos] if eos is not None else []))
            rows.append(example)
        return self.row_nll(rows).mean()
