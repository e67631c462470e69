"""ICAE-style autoencoder (METHODS.md section 4, and the framework of section 1).

The encoder LM (trainable: LoRA on its attention projections, or every weight for tiny models) reads the
context followed by k = ceil(n / r) learned memory tokens; its last hidden states (after the final norm) at
the memory positions, through a linear projection when the encoder's and decoder's hidden sizes differ,
are the soft prompt of the FROZEN decoder. Objectives: reconstruction (the decoder restates the context
after the memory and ``restate_prompt``) and continuation (it continues the text), mixed by
``reconstruction_share``; QA / span-recall examples give the fine-tuning loss on the answer.

Choices the paper leaves open: memory tokens are one learned vector per slot index (slot i of every
context shares vector i), drawn from the encoder's embedding statistics; memory positions continue after
the context in the encoder (n .. n+k-1) and are 0..k-1 in the decoder.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from datacomp.compressors.example import RECONSTRUCTION_PROMPT
from datacomp.compressors.base import Compressor, CompressorConfig, Memory, freeze
from datacomp.compressors.lora import add_lora, load_lm, new_token_embeddings
from datacomp.errors import DatacompError


@dataclasses.dataclass
class AutoencoderConfig(CompressorConfig):
    encoder_training: str = "lora"   # "lora" (ICAE) or "full" (cheap enough for ~1M-param reference LMs)
    lora_rank: int = 8               # ICAE uses 128 at 7B; 8 is plenty for hidden sizes of 32-576
    lora_alpha: int = 16             # scale alpha/rank = 2, as ICAE's 32/... keeps updates moderate
    reconstruction_share: float = 0.5  # P(a continuation example trains reconstruction instead): ICAE mixes both
    restate_prompt: str = RECONSTRUCTION_PROMPT  # the prompt of reconstruction, shared with the task data
    decoder_lora: bool = False       # ICAE keeps the decoder frozen; True adds LoRA to it (small frozen LMs
                                     # cannot be steered by soft prompts at all - a study option, not ICAE)


class Autoencoder(Compressor):
    method = "autoencoder"
    config_class = AutoencoderConfig

    def __init__(self, config: AutoencoderConfig, encoder_path: str, decoder_path: str):
        encoder, tokenizer = load_lm(encoder_path)
        decoder, _ = load_lm(decoder_path)
        super().__init__(config, tokenizer, encoder_path, decoder_path)
        if config.encoder_training not in ("lora", "full"):
            raise DatacompError(f"autoencoder config field encoder_training must be 'lora' or 'full', "
                                f"not {config.encoder_training!r}")
        if config.ratio < 1:
            raise DatacompError(f"config field ratio must be >= 1, not {config.ratio}")
        if config.encoder_training == "lora":
            encoder = add_lora(encoder, config.lora_rank, config.lora_alpha)
        else:
            for parameter in encoder.parameters():
                parameter.requires_grad_(True)
        self.encoder = encoder
        self.decoder = add_lora(decoder, config.lora_rank, config.lora_alpha) if config.decoder_lora \
            else freeze(decoder)
        self.max_slots = math.ceil(config.max_context_tokens / config.ratio)
        self.memory_tokens = new_token_embeddings(encoder, self.max_slots)
        enc_hidden, dec_hidden = encoder.config.hidden_size, decoder.config.hidden_size
        self.projection = torch.nn.Linear(enc_hidden, dec_hidden) if enc_hidden != dec_hidden \
            else torch.nn.Identity()

    def n_slots(self, n_tokens: int) -> int:
        return math.ceil(n_tokens / self.config.ratio)

    def compress(self, context_ids: torch.Tensor, query_ids: torch.Tensor | None = None) -> Memory:
        n = context_ids.shape[1]
        k = self.n_slots(n)
        if k > self.max_slots:
            raise ValueError(f"context of {n} tokens exceeds max_context_tokens={self.config.max_context_tokens}")
        embeds = torch.cat([self.encoder.get_input_embeddings()(context_ids), self.memory_tokens[None, :k]], dim=1)
        hidden = self.encoder.model(inputs_embeds=embeds, use_cache=False).last_hidden_state
        slots = self.projection(hidden[:, n:])
        positions = torch.arange(k, device=slots.device)[None]
        return Memory(n_context_tokens=n, positions=positions, next_position=k, embeddings=slots)

    def training_loss(self, example) -> torch.Tensor:
        encoded = self.encode_example(example)
        prompt, target = encoded.prompt_ids, encoded.target_ids
        if example.task == "continuation" and float(torch.rand(())) < self.config.reconstruction_share:
            prompt = self.tokenize(self.config.restate_prompt)
            target = torch.cat([encoded.context_ids[:, : self.config.max_target_tokens],
                                target.new_tensor([[self.eos_token_id]])], dim=1)
        memory = self.compress(encoded.context_ids)
        return self.answer_loss(memory, prompt, target)
