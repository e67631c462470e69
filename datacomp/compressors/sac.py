"""SAC: autoencoding-free compression via contextual semantic anchors (METHODS.md section 2).

The compressor (a LoRA-tuned copy of the decoder LM) reads ``[<compress>, context]``; every ``r``-th token
of each chunk is an anchor and gets a learned anchor embedding added to its token embedding; attention is
bidirectional inside a chunk and blocked across chunks. Each layer's keys and values at the anchor
positions (rotary already applied at their global positions) become the frozen decoder's cache; the
decoder then reads ``[<decode>, prompt, answer]`` at positions n+1, n+2, ...

Choices written down here because the paper leaves them open:
- Positions: 0 is the learned ``<compress>`` mode token, context token i sits at position i + 1, so the
  anchors of a chunk starting at context index s are s + 1 + (r-1)//2 + j*r, j < floor(chunk_len / r)
  (chunk 510, r = 5: 102 anchors, the first at 3). A tail chunk shorter than r has no anchor.
- The ``<compress>`` token's keys/values (position 0) are handed to the decoder too, as an attention
  sink (``keep_sink``); it is counted as a slot, so the reported ratio includes it.
- Every context token attends to the sink and to its own chunk only; chunks never see each other.
- Anchor embeddings: one learned vector per anchor slot within a chunk (as the public code does), shared
  across chunks, initialised to zero (so an untrained SAC equals the plain LM on anchor tokens).
- The second mode token, ``<decode>``, is the decoder's first input after the cache (a learned soft token).
- The ratio must be a whole number (the anchor stride).
"""

from __future__ import annotations

import dataclasses

import torch

from datacomp.compressors.base import Compressor, CompressorConfig, Memory, freeze
from datacomp.compressors.decoding import cache_from_layers, cache_layers
from datacomp.compressors.lora import add_lora, load_lm, new_token_embeddings
from datacomp.errors import DatacompError


@dataclasses.dataclass
class SACConfig(CompressorConfig):
    chunk_tokens: int = 510     # the paper's chunk; capped at max_context_tokens (so tiny LMs use one chunk)
    bidirectional: bool = True  # all-zero mask inside a chunk (the ablation without it loses ~2.6 F1)
    keep_sink: bool = True      # hand the <compress> token's K/V (position 0) to the decoder as attention sink
    lora_rank: int = 8          # paper: 128 at 1B; 8 suffices for the small LMs this toolkit trains
    lora_alpha: int = 16


def anchor_positions(n_tokens: int, chunk_tokens: int, ratio: int) -> list[int]:
    """Sequence positions (0 = mode token, context token i at i + 1) of the anchors of every chunk."""
    positions = []
    for start in range(0, n_tokens, chunk_tokens):
        length = min(chunk_tokens, n_tokens - start)
        first = start + 1 + (ratio - 1) // 2
        positions.extend(first + j * ratio for j in range(length // ratio))
    return positions


def anchor_slots(n_tokens: int, chunk_tokens: int, ratio: int) -> list[int]:
    """Index of each anchor within its chunk (which anchor embedding it gets), aligned with anchor_positions."""
    slots = []
    for start in range(0, n_tokens, chunk_tokens):
        slots.extend(range(min(chunk_tokens, n_tokens - start) // ratio))
    return slots


def chunk_attention_mask(n_tokens: int, chunk_tokens: int, bidirectional: bool,
                         dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(1, 1, n+1, n+1) additive mask over [mode token, context]: 0 = may attend, dtype min = blocked.

    The mode token (row 0) sees itself; a context token sees the mode token and its own chunk - all of it
    when ``bidirectional``, else only up to itself - and never another chunk."""
    size = n_tokens + 1
    chunk = torch.full((size,), -1, dtype=torch.long)
    chunk[1:] = torch.arange(n_tokens) // chunk_tokens
    allowed = chunk[:, None] == chunk[None, :]
    allowed[:, 0] = True
    if not bidirectional:
        allowed &= torch.ones(size, size, dtype=torch.bool).tril()
    mask = torch.zeros(size, size, dtype=dtype)
    mask.masked_fill_(~allowed, torch.finfo(dtype).min)
    return mask[None, None]


class SAC(Compressor):
    method = "sac"
    config_class = SACConfig

    def __init__(self, config: SACConfig, encoder_path: str, decoder_path: str):
        compressor, tokenizer = load_lm(encoder_path)
        decoder, _ = load_lm(decoder_path)
        super().__init__(config, tokenizer, encoder_path, decoder_path)
        if config.ratio != int(config.ratio) or config.ratio < 1:
            raise DatacompError(f"sac config field ratio must be a whole number >= 1 (the anchor stride), "
                                f"not {config.ratio}")
        _check_same_cache_shape(compressor.config, decoder.config, encoder_path, decoder_path)
        self.stride = int(config.ratio)
        self.chunk_tokens = min(config.chunk_tokens, config.max_context_tokens)
        self.compressor = add_lora(compressor, config.lora_rank, config.lora_alpha)
        self.decoder = freeze(decoder)
        hidden = compressor.config.hidden_size
        self.anchor_embeddings = torch.nn.Parameter(torch.zeros(max(self.chunk_tokens // self.stride, 1), hidden))
        self.mode_tokens = new_token_embeddings(compressor, 2)  # 0 = <compress>, 1 = <decode>

    def compress(self, context_ids: torch.Tensor, query_ids: torch.Tensor | None = None) -> Memory:
        n = context_ids.shape[1]
        anchors = anchor_positions(n, self.chunk_tokens, self.stride)
        slots = anchor_slots(n, self.chunk_tokens, self.stride)
        tokens = self.compressor.get_input_embeddings()(context_ids)
        embeds = torch.cat([self.mode_tokens[None, :1], tokens], dim=1)
        if anchors:
            index = torch.tensor(anchors, device=embeds.device)
            addition = torch.zeros_like(embeds).index_add(1, index, self.anchor_embeddings[slots][None])
            embeds = embeds + addition
        mask = chunk_attention_mask(n, self.chunk_tokens, self.config.bidirectional, embeds.dtype)
        positions = torch.arange(n + 1, device=embeds.device)[None]
        from transformers import DynamicCache

        out = self.compressor.model(inputs_embeds=embeds, attention_mask=mask.to(embeds.device),
                                    position_ids=positions, past_key_values=DynamicCache(), use_cache=True)
        keep = ([0] if self.config.keep_sink else []) + anchors
        keep_index = torch.tensor(keep, dtype=torch.long, device=embeds.device)
        layers = [(k[:, :, keep_index], v[:, :, keep_index]) for k, v in cache_layers(out.past_key_values)]
        return Memory(n_context_tokens=n, positions=keep_index[None], next_position=n + 1,
                      past_key_values=cache_from_layers(layers))

    def decoder_prefix(self, memory: Memory):
        """The <decode> token at position n + 1, after a fresh copy of the anchors' cache."""
        return self.mode_tokens[None, 1:2], cache_from_layers(cache_layers(memory.past_key_values)), \
            memory.next_position


def _check_same_cache_shape(compressor_config, decoder_config, encoder_path, decoder_path) -> None:
    def shape(config):
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        return (config.num_hidden_layers, config.num_key_value_heads, head_dim)

    if shape(compressor_config) != shape(decoder_config):
        raise DatacompError(f"sac needs compressor and decoder with the same (layers, kv heads, head dim): "
                            f"{encoder_path} has {shape(compressor_config)}, {decoder_path} has "
                            f"{shape(decoder_config)}")
