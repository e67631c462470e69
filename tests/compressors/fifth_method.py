"""A fifth compressor written the way a new method is meant to be added: this file, plus one line that puts
it in ``registry.REGISTRY`` (tests/conftest.py). It is deliberately trivial: the memory is the decoder's own
input embedding of every r-th context token, through one trained linear map (identity at the start), read by
a LoRA-tuned decoder; its default task is reconstruction (unlike the base class's), so the tests can tell that
both are read off this class."""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import torch

from datacomp.compressors.base import Compressor, CompressorConfig, Memory
from datacomp.compressors.batch import EncodedExample
from datacomp.compressors.lora import add_lora


@dataclasses.dataclass
class StridedConfig(CompressorConfig):
    pass


class Strided(Compressor):
    method = "strided"
    config_class = StridedConfig
    default_task = "reconstruction"
    encoder_refusal = "its encoder is the decoder's embedding table, not a language model"

    def __init__(self, config: StridedConfig, encoder, decoder, tokenizer, encoder_path: str = "",
                 decoder_path: str = ""):
        super().__init__(config, tokenizer, encoder_path, decoder_path)
        self.decoder = add_lora(decoder, rank=2, alpha=4)
        hidden = decoder.config.hidden_size
        self.projection = torch.nn.Linear(hidden, hidden)
        with torch.no_grad():
            self.projection.weight.copy_(torch.eye(hidden))
            self.projection.bias.zero_()

    def compress(self, batch: Sequence[EncodedExample]) -> Memory:
        embed = self.decoder.get_input_embeddings()
        step = max(1, math.ceil(self.config.ratio))
        embeddings = []
        for example in batch:
            ids = torch.tensor(example.context_ids[::step], dtype=torch.long, device=embed.weight.device)
            embeddings.append(self.projection(embed(ids)))
        return Memory(n_context_tokens=[len(e.context_ids) for e in batch],
                      positions=[torch.arange(e.shape[0], device=e.device) for e in embeddings],
                      next_position=[int(e.shape[0]) for e in embeddings], embeddings=embeddings)
