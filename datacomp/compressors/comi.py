"""COMI: coarse-to-fine compression by marginal information gain (METHODS.md section 3), and ``meanpool``.

The encoder is the first ``encoder_layers`` layers of the encoder LM (fully trained by default) reading
``[context, query]`` causally; h_i = its last hidden states (after the final norm), q = mean of the query
tokens' h. With n context tokens and ratio r:

1. Coarse: cut the context into G = ceil(n / r) equal groups (sizes differ by at most one, larger first).
   A group's representative is its token with the highest cos(h_i, q); relevance = that cosine;
   redundancy = max cosine between its representative and the other groups' representatives;
   MIG = alpha * relevance - beta * redundancy. New sizes = n * softmax(-MIG) rounded by largest remainder
   and re-cut contiguously: high-MIG groups become smaller. To keep every group non-empty (the group
   count stays G, so the ratio is exact), each group first gets one token and the remaining n - G tokens
   are shared as (n - G) * softmax(-MIG) by largest remainder (ties to the earlier group).
2. Fine: inside each group, w_i = softmax_i(alpha * cos(h_i, q) - beta * max_{j != i} cos(h_i, h_j))
   (a one-token group has redundancy 0), slot = sum_i w_i h_i.
3. An adapter maps slots into the decoder's input space: ``linear`` (identity-initialised when the sizes
   agree) or ``block`` (a copy of the encoder LM's layer m - the first one the encoder dropped - attending
   bidirectionally over the slots at positions 0..G-1, then the linear map). The decoder (LoRA on q/k/v/o)
   reads [slots, query, answer]; loss on the answer only. Without a query (empty prompt, e.g. continuation)
   q is the mean of the context's hidden states.

The group sizes are discrete, so alpha and beta get gradients only through the fine stage (when learned).
With alpha = beta = 0 every MIG is 0, groups stay equal and weights uniform: plain mean-pooling of equal
groups, registered as the ``meanpool`` baseline (GMSA-style), whose alpha and beta are fixed at 0.
"""

from __future__ import annotations

import copy
import dataclasses
import math

import torch
import torch.nn.functional as F

from datacomp.compressors.base import Compressor, CompressorConfig, Memory
from datacomp.compressors.lora import add_lora, load_lm
from datacomp.errors import DatacompError


# ---- pure functions -----------------------------------------------------------------------------------
def equal_group_sizes(n_tokens: int, n_groups: int) -> list[int]:
    """n_tokens cut into n_groups contiguous groups whose sizes differ by at most one (larger first)."""
    base, extra = divmod(n_tokens, n_groups)
    return [base + 1 if g < extra else base for g in range(n_groups)]


def largest_remainder(quotas: list[float], total: int) -> list[int]:
    """Integers summing to ``total``: floor of each quota, then +1 to the largest fractional parts
    (ties to the earlier index). ``quotas`` must sum to ``total`` (up to rounding)."""
    floors = [math.floor(q) for q in quotas]
    left = total - sum(floors)
    order = sorted(range(len(quotas)), key=lambda g: (-(quotas[g] - floors[g]), g))
    for g in order[:max(left, 0)]:
        floors[g] += 1
    return floors


def reallocated_group_sizes(mig: torch.Tensor, n_tokens: int) -> list[int]:
    """Group sizes from the groups' MIG: one token each, plus (n - G) * softmax(-MIG) by largest remainder."""
    n_groups = int(mig.shape[0])
    share = torch.softmax(-mig.detach().double(), dim=0) * (n_tokens - n_groups)
    return [1 + extra for extra in largest_remainder(share.tolist(), n_tokens - n_groups)]


def padded_groups(sizes: list[int], device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(token index (G, L), valid (G, L)) of contiguous groups of ``sizes``, padded to L = max size
    (padding points at the group's last token and is marked invalid)."""
    lengths = torch.tensor(sizes, device=device)
    starts = lengths.cumsum(0) - lengths
    offsets = torch.arange(max(sizes), device=device)
    valid = offsets[None] < lengths[:, None]
    index = starts[:, None] + torch.minimum(offsets[None], lengths[:, None] - 1)
    return index, valid


def group_mig(hidden: torch.Tensor, query: torch.Tensor, sizes: list[int], alpha: float, beta: float
              ) -> torch.Tensor:
    """MIG of each group: alpha * (max cos of its tokens to q) - beta * (max cos of its representative to
    the other groups' representatives); hidden (n, d), query (d,)."""
    cos_q = F.cosine_similarity(hidden, query[None], dim=-1)
    index, valid = padded_groups(sizes, hidden.device)
    relevance, best = cos_q[index].masked_fill(~valid, -float("inf")).max(dim=1)
    if len(sizes) == 1:
        return alpha * relevance
    rep = F.normalize(hidden[index.gather(1, best[:, None])[:, 0]], dim=-1)
    sim = rep @ rep.T
    sim.fill_diagonal_(-float("inf"))
    return alpha * relevance - beta * sim.max(dim=1).values


def merge_weights(group: torch.Tensor, query: torch.Tensor, alpha, beta) -> torch.Tensor:
    """softmax over one group's tokens of alpha * cos(h_i, q) - beta * max_{j != i} cos(h_i, h_j)
    (the reference definition; merge_groups computes the same for all groups at once)."""
    relevance = F.cosine_similarity(group, query[None], dim=-1)
    if group.shape[0] == 1:
        return torch.ones(1, dtype=group.dtype, device=group.device)
    normed = F.normalize(group, dim=-1)
    sim = normed @ normed.T
    sim = sim.masked_fill(torch.eye(group.shape[0], dtype=torch.bool, device=group.device), -float("inf"))
    return torch.softmax(alpha * relevance - beta * sim.max(dim=1).values, dim=0)


def merge_groups(hidden: torch.Tensor, query: torch.Tensor, sizes: list[int], alpha, beta) -> torch.Tensor:
    """(G, d) slots: each contiguous group's sum of hidden states weighted by merge_weights, batched."""
    index, valid = padded_groups(sizes, hidden.device)
    groups = hidden[index]                                           # (G, L, d)
    normed = F.normalize(groups, dim=-1)
    relevance = normed @ F.normalize(query, dim=-1)                  # (G, L)
    sim = normed @ normed.transpose(1, 2)                            # (G, L, L)
    blocked = ~valid[:, None, :] | torch.eye(index.shape[1], dtype=torch.bool, device=hidden.device)[None]
    redundancy = sim.masked_fill(blocked, -float("inf")).max(dim=-1).values
    redundancy = redundancy.masked_fill(torch.isinf(redundancy), 0.0)  # a one-token group: no redundancy
    scores = (alpha * relevance - beta * redundancy).masked_fill(~valid, -float("inf"))
    weights = torch.softmax(scores, dim=-1)
    return (weights[..., None] * groups).sum(dim=1)


def comi_slots(hidden: torch.Tensor, query: torch.Tensor, ratio: float, alpha, beta
               ) -> tuple[torch.Tensor, list[int]]:
    """The whole coarse-to-fine compression of (n, d) context hidden states: (slots (G, d), group sizes)."""
    n = hidden.shape[0]
    n_groups = math.ceil(n / ratio)
    sizes = equal_group_sizes(n, n_groups)
    mig = group_mig(hidden, query, sizes, float(alpha), float(beta))
    sizes = reallocated_group_sizes(mig, n)
    return merge_groups(hidden, query, sizes, alpha, beta), sizes


def default_encoder_layers(total_layers: int) -> int:
    """The paper's share of the LM used as encoder (8 of 28 layers at 7B), at least one layer:
    2 -> 1, 30 (SmolLM2-135M) -> 9."""
    return max(1, round(total_layers * 8 / 28))


# ---- the module ---------------------------------------------------------------------------------------
@dataclasses.dataclass
class COMIConfig(CompressorConfig):
    encoder_layers: int = 0          # first m layers of the encoder LM; 0 = the paper's share, round(L * 8 / 28), >= 1
    alpha: float = 1.0               # weight of relevance to the query (paper default 1)
    beta: float = 1.0                # weight of redundancy (paper default 1)
    learn_alpha_beta: bool = False   # the paper allows learning them; fixed keeps the method as specified
    encoder_training: str = "full"   # the paper trains the encoder layers fully; "lora" for big encoders
    lora_rank: int = 8               # decoder LoRA on q/k/v/o (paper: 128 at 7B)
    lora_alpha: int = 16
    adapter: str = "linear"          # "linear" or "block" (one transformer block initialised from the LM)


@dataclasses.dataclass
class MeanPoolConfig(COMIConfig):
    alpha: float = 0.0  # alpha = beta = 0: equal groups, uniform weights = plain mean-pooling
    beta: float = 0.0


class COMI(Compressor):
    method = "comi"
    config_class = COMIConfig

    def __init__(self, config: COMIConfig, encoder_path: str, decoder_path: str):
        encoder, tokenizer = load_lm(encoder_path)
        decoder, _ = load_lm(decoder_path)
        super().__init__(config, tokenizer, encoder_path, decoder_path)
        if config.ratio < 1:
            raise DatacompError(f"config field ratio must be >= 1, not {config.ratio}")
        total = encoder.config.num_hidden_layers
        if not 0 <= config.encoder_layers <= total:
            raise DatacompError(f"{self.method} config field encoder_layers must be in 1..{total} "
                                f"(layers of {encoder_path}) or 0 for the default, not {config.encoder_layers}")
        self.encoder_layers = config.encoder_layers or default_encoder_layers(total)
        if config.encoder_training not in ("lora", "full"):
            raise DatacompError(f"{self.method} config field encoder_training must be 'lora' or 'full', "
                                f"not {config.encoder_training!r}")
        if config.adapter not in ("linear", "block"):
            raise DatacompError(f"{self.method} config field adapter must be 'linear' or 'block', "
                                f"not {config.adapter!r}")
        body = encoder.model
        self.adapter_block = None
        if config.adapter == "block":
            self.adapter_block = copy.deepcopy(body.layers[min(self.encoder_layers, total - 1)])
            self.adapter_block.requires_grad_(True)
        body.layers = body.layers[: self.encoder_layers]
        body.config.num_hidden_layers = self.encoder_layers
        if config.encoder_training == "lora":
            body = add_lora(body, config.lora_rank, config.lora_alpha)
        self.encoder = body
        self.decoder = add_lora(decoder, config.lora_rank, config.lora_alpha)
        enc_hidden, dec_hidden = encoder.config.hidden_size, decoder.config.hidden_size
        self.adapter = torch.nn.Linear(enc_hidden, dec_hidden)
        if enc_hidden == dec_hidden:
            with torch.no_grad():
                self.adapter.weight.copy_(torch.eye(dec_hidden))
                self.adapter.bias.zero_()
        alpha_beta = torch.tensor([config.alpha, config.beta])
        if config.learn_alpha_beta:
            self.alpha_beta = torch.nn.Parameter(alpha_beta)
        else:
            self.register_buffer("alpha_beta", alpha_beta)

    def context_hidden(self, context_ids: torch.Tensor, query_ids: torch.Tensor | None):
        """(context hidden states (n, d), query vector (d,)) from one causal pass over [context, query]."""
        n = context_ids.shape[1]
        ids = context_ids if query_ids is None or query_ids.shape[1] == 0 else torch.cat([context_ids, query_ids], 1)
        hidden = self.encoder(input_ids=ids, use_cache=False).last_hidden_state[0]
        query = hidden[n:].mean(dim=0) if hidden.shape[0] > n else hidden[:n].mean(dim=0)
        return hidden[:n], query

    def compress(self, context_ids: torch.Tensor, query_ids: torch.Tensor | None = None) -> Memory:
        hidden, query = self.context_hidden(context_ids, query_ids)
        slots, _ = comi_slots(hidden, query, self.config.ratio, self.alpha_beta[0], self.alpha_beta[1])
        slots = slots[None]
        k = slots.shape[1]
        positions = torch.arange(k, device=slots.device)[None]
        if self.adapter_block is not None:
            rotary = self.encoder.rotary_emb(slots, positions)
            everywhere = torch.zeros(1, 1, k, k, dtype=slots.dtype, device=slots.device)
            slots = self.adapter_block(slots, attention_mask=everywhere, position_ids=positions,
                                       position_embeddings=rotary)
        embeddings = self.adapter(slots)
        return Memory(n_context_tokens=context_ids.shape[1], positions=positions, next_position=k,
                      embeddings=embeddings)


class MeanPool(COMI):
    """COMI with alpha = beta = 0 (fixed): mean of ceil(n/r) equal contiguous groups."""

    method = "meanpool"
    config_class = MeanPoolConfig

    def __init__(self, config: MeanPoolConfig, encoder_path: str, decoder_path: str):
        if config.alpha != 0 or config.beta != 0 or config.learn_alpha_beta:
            raise DatacompError("meanpool config fields alpha and beta must be 0 and learn_alpha_beta false "
                                "(use method comi for other values)")
        super().__init__(config, encoder_path, decoder_path)
