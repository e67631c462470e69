"""COMI: coarse-to-fine context compression by marginal information gain (METHODS.md section 3), and
the ``meanpool`` baseline; following the official code (Twilightaaa/COMI, modeling_comi.py, train.sh).

- Encoder: the encoder LM cut to its first ``encoder_layers`` layers (the final norm kept), every weight
  trained (``encoder_training="full"``, official; "lora" for big encoders), causal, reading
  ``[context, query]`` (query = the question's own tokens, ``EncodedExample.query_ids``; no template,
  no BOS). h = its last hidden states (after the final norm); q = mean of h over the query tokens, or
  over the context tokens when there is no question.
- Coarse and fine stages: ``comi_groups.py`` (the official group-size rule, at most ceil(n / r) slots;
  separate ``alpha_select``/``beta_select`` and ``alpha_merge``/``beta_merge``, fixed buffers unless
  ``learn_alpha_beta``). The group sizes are discrete, so only the merge coefficients can get gradients.
  ``fine_redundancy="official"`` reproduces the official code's clip of the in-group redundancy at 0 in
  groups shorter than the example's longest group (it pads them with zero columns); "exact" does not
  clip. Either way a row's memory depends on that row only.
- Adapter: ``adapter="block"`` (official ``use_transform_layer``): a separate copy of the encoder LM cut
  to ONE layer (its pretrained layer 0) plus the final norm, fully trained, reading the slots as input
  embeddings at positions 0..M-1 with a causal mask (padded slots masked); output = its last hidden
  state, no linear after it (a linear only when the encoder's and decoder's hidden sizes differ, which
  the official code, one LM for all parts, never has). ``adapter="linear"``: a trained linear map,
  identity-initialised when the sizes agree (the official fallback is the identity then).
- Decoder: LoRA on q/k/v/o (official r 128, alpha 32, dropout 0.05; here r 8, alpha 16, dropout 0 for
  small LMs and exact batching), reading [BOS, slots, prompt, answer + eos]; loss on the answer only
  (the official decoder reads [slots, question, answer]; BOS is this toolkit's rule for every method).
- Official training: lr 1e-5, 10% warmup, cosine schedule, weight decay 0.01, AdamW, bf16, batch 1,
  merge size 16, encoder_layers 8 (Qwen3-4B-Instruct in train.sh; the paper: 8 of 28 at 7B, our default
  share). Not reproduced: the official split of contexts longer than ``segment_size`` (10k-30k tokens)
  into segments compressed separately (contexts here are cut far shorter).

``meanpool`` is COMI with every alpha and beta 0 (fixed): all scores 0, so quotas n / G and the largest
remainder gives G = ceil(n / r) groups of sizes differing by at most one, larger first
(``equal_group_sizes``), each mean-pooled; encoder, adapter and decoder as COMI's.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Literal, Sequence

import torch

from datacomp.compressors.base import Compressor, CompressorConfig, Memory
from datacomp.compressors.batch import EncodedExample, pad_rows
from datacomp.compressors.comi_groups import REDUNDANCY_MODES, comi_slots
from datacomp.compressors.decoding import additive_mask
from datacomp.compressors.lora import ATTENTION_PROJECTIONS, add_lora
from datacomp.config_checks import at_least, between, one_of, positive
from datacomp.errors import ConfigError, DatacompError


def default_encoder_layers(total_layers: int) -> int:
    """The paper's share of the LM used as encoder (8 of 28 layers at 7B), at least one layer:
    2 -> 1, 30 (SmolLM2-135M) -> 9."""
    return max(1, round(total_layers * 8 / 28))


@dataclasses.dataclass
class COMIConfig(CompressorConfig):
    encoder_layers: int = 0          # first m layers of the encoder LM; 0 = the paper's share, round(L * 8 / 28), >= 1
    alpha_select: float = 1.0        # coarse stage: weight of a group's relevance to the query (official 1)
    beta_select: float = 1.0         # coarse stage: weight of its redundancy with the other groups (official 1)
    alpha_merge: float = 1.0         # fine stage: weight of a token's relevance (official 1)
    beta_merge: float = 1.0          # fine stage: weight of its redundancy inside the group (official 1)
    learn_alpha_beta: bool = False   # official lamda_select / lamda_merge default off: fixed coefficients
    fine_redundancy: str = "official"  # "official" (clip at 0 in groups shorter than the longest) or "exact"
    encoder_training: Literal["full", "lora"] = "full"  # official: fully trained; "lora" for big encoders
    adapter: Literal["block", "linear"] = "block"       # "block": official, layer 0 + final norm
    lora_rank: int = 8               # decoder LoRA (official 128 at 1B-7B)
    lora_alpha: int = 16             # (official 32)
    lora_dropout: float = 0.0        # (official 0.05; with dropout a batch's loss is not its rows' mean)
    lora_targets: str = ",".join(ATTENTION_PROJECTIONS)  # official q_proj,k_proj,v_proj,o_proj

    def __post_init__(self) -> None:
        super().__post_init__()
        one_of("fine_redundancy", self.fine_redundancy, REDUNDANCY_MODES)
        at_least(self, "encoder_layers", 0)   # its upper bound is the encoder's depth: checked when it loads
        positive(self, "lora_rank", "lora_alpha")
        between(self, "lora_dropout", 0, 1)


@dataclasses.dataclass
class MeanPoolConfig(COMIConfig):
    alpha_select: float = 0.0  # all 0: equal groups, uniform weights = plain mean-pooling
    beta_select: float = 0.0
    alpha_merge: float = 0.0
    beta_merge: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in (*COEFFICIENTS, "learn_alpha_beta"):
            if getattr(self, name):
                raise ConfigError(name, f"must be {'false' if name == 'learn_alpha_beta' else 0} for meanpool, "
                                        f"got {getattr(self, name)!r} (use method comi for other values)")


COEFFICIENTS = ("alpha_select", "beta_select", "alpha_merge", "beta_merge")


class COMI(Compressor):
    method = "comi"
    config_class = COMIConfig
    default_task = "span-recall"   # query-aware: trained on answering from the context, as the paper
    encoder_refusal = "its encoder is not a language model: it is the base LM's first m layers with no trained head"

    def __init__(self, config: COMIConfig, encoder, decoder, tokenizer, encoder_path: str = "",
                 decoder_path: str = ""):
        super().__init__(config, tokenizer, encoder_path, decoder_path)
        total = encoder.config.num_hidden_layers
        if not 0 <= config.encoder_layers <= total:
            raise DatacompError(f"{self.method} config field encoder_layers must be in 1..{total} "
                                f"(layers of {encoder_path or 'the encoder'}) or 0 for the default, "
                                f"not {config.encoder_layers}")
        self.encoder_layers = config.encoder_layers or default_encoder_layers(total)
        body = encoder.model
        enc_hidden, dec_hidden = encoder.config.hidden_size, decoder.config.hidden_size
        self.projection = None
        if config.adapter == "block":
            self.adapter = one_layer_copy(body)
            if enc_hidden != dec_hidden:
                self.projection = torch.nn.Linear(enc_hidden, dec_hidden)
        else:
            self.adapter = torch.nn.Linear(enc_hidden, dec_hidden)
            if enc_hidden == dec_hidden:
                with torch.no_grad():
                    self.adapter.weight.copy_(torch.eye(dec_hidden))
                    self.adapter.bias.zero_()
        body.layers = body.layers[: self.encoder_layers]
        body.config.num_hidden_layers = self.encoder_layers
        targets = tuple(t.strip() for t in config.lora_targets.split(",") if t.strip()) or None
        if config.encoder_training == "lora":
            body = add_lora(body, config.lora_rank, config.lora_alpha, targets, config.lora_dropout)
        else:
            body.requires_grad_(True)
        self.encoder = body
        self.decoder = add_lora(decoder, config.lora_rank, config.lora_alpha, targets, config.lora_dropout)
        for name in COEFFICIENTS:
            value = torch.tensor(float(getattr(config, name)))
            if config.learn_alpha_beta:
                setattr(self, name, torch.nn.Parameter(value))
            else:
                self.register_buffer(name, value)

    # ---- the stages ---------------------------------------------------------------------------------
    def encode_batch(self, batch: Sequence[EncodedExample]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Per row (context hidden states (n, d), query vector (d,)) from ONE causal encoder forward
        over right-padded [context, query] rows (padding comes after every real token, so the causal
        mask keeps it unseen)."""
        device = self.encoder.embed_tokens.weight.device
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        ids, _ = pad_rows([list(e.context_ids) + list(e.query_ids) for e in batch], int(pad), device)
        hidden = self.encoder(input_ids=ids, use_cache=False).last_hidden_state
        contexts, queries = [], []
        for row, example in enumerate(batch):
            n, m = len(example.context_ids), len(example.query_ids)
            contexts.append(hidden[row, :n])
            queries.append(hidden[row, n:n + m].mean(dim=0) if m else hidden[row, :n].mean(dim=0))
        return contexts, queries

    def slots(self, batch: Sequence[EncodedExample]) -> tuple[list[torch.Tensor], list[list[int]]]:
        """Per row: the merged slots (G_b, d) before the adapter, and the final group sizes."""
        contexts, queries = self.encode_batch(batch)
        slots, sizes = [], []
        for hidden, query in zip(contexts, queries):
            merged, row_sizes = comi_slots(hidden, query, self.config.ratio, self.alpha_select, self.beta_select,
                                           self.alpha_merge, self.beta_merge, self.config.fine_redundancy)
            slots.append(merged)
            sizes.append(row_sizes)
        return slots, sizes

    def adapt(self, slots: list[torch.Tensor]) -> list[torch.Tensor]:
        """The adapter on every row's slots: the block in ONE forward over right-padded rows (causal
        plus padding mask; a padding query sees itself), or the linear map."""
        if self.config.adapter == "linear":
            return [self.adapter(row) for row in slots]
        lengths = [int(row.shape[0]) for row in slots]
        width, device, dtype = max(lengths), slots[0].device, slots[0].dtype
        padded = slots[0].new_zeros(len(slots), width, slots[0].shape[-1])
        valid = torch.zeros(len(slots), width, dtype=torch.bool, device=device)
        for row, (merged, length) in enumerate(zip(slots, lengths)):
            padded[row, :length] = merged
            valid[row, :length] = True
        allowed = torch.ones(width, width, dtype=torch.bool, device=device).tril()[None] & valid[:, None, :]
        diagonal = torch.arange(width, device=device)
        allowed[:, diagonal, diagonal] = True
        positions = diagonal[None].expand(len(slots), width)
        out = self.adapter(inputs_embeds=padded, attention_mask=additive_mask(allowed, dtype),
                           position_ids=positions, use_cache=False).last_hidden_state
        if self.projection is not None:
            out = self.projection(out)
        return [out[row, :length] for row, length in enumerate(lengths)]

    def compress(self, batch: Sequence[EncodedExample]) -> Memory:
        slots, _ = self.slots(batch)
        embeddings = self.adapt(slots)
        return Memory(n_context_tokens=[len(e.context_ids) for e in batch],
                      positions=[torch.arange(e.shape[0], device=e.device) for e in embeddings],
                      next_position=[int(e.shape[0]) for e in embeddings], embeddings=embeddings)


def one_layer_copy(body: torch.nn.Module) -> torch.nn.Module:
    """A fully trainable copy of an LM body (e.g. LlamaModel) with its first layer, final norm and rotary
    embedding only (the official memory fusion layer: the LM loaded with num_hidden_layers = 1); it reads
    input embeddings, so the token embedding table is not copied."""
    layers, embed = body.layers, body.embed_tokens
    try:
        body.layers, body.embed_tokens = layers[:1], None
        block = copy.deepcopy(body)
    finally:
        body.layers, body.embed_tokens = layers, embed
    block.config.num_hidden_layers = 1
    block.requires_grad_(True)
    return block


class MeanPool(COMI):
    """COMI with every alpha and beta 0 (fixed): the mean of ceil(n / r) near-equal contiguous groups."""

    method = "meanpool"
    config_class = MeanPoolConfig

    def __init__(self, config: MeanPoolConfig, encoder, decoder, tokenizer, encoder_path: str = "",
                 decoder_path: str = ""):
        super().__init__(config, encoder, decoder, tokenizer, encoder_path, decoder_path)
