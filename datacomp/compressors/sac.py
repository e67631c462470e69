"""SAC: autoencoding-free compression via contextual semantic anchors (METHODS.md section 2).

What the official code (lx-Meteors/SAC, model/modeling.py) does, and where this follows it:

- Input: the compressor reads ``[BOS] + tokens("### Context:\\n") + context`` (BOS only when the tokenizer
  has one; ``context_prefix``). The whole input of L tokens sits at positions 1..L (BOS at 1). Same here.
- Chunks of ``chunk_tokens`` = 510 over the whole input (BOS and prefix are ordinary tokens of chunk 0):
  chunk c covers input indices [s, e), s = 510 c, e = min(s + 510, L). Each chunk is encoded on its own
  (no attention across chunks); inside a chunk attention is fully bidirectional (all-zero additive mask).
  Masks are explicit 4D additive masks with blocked value finfo(dtype).min. Same here: every chunk of
  every row is one row of a single compressor forward (right-padded; padding keys blocked, a padding
  query sees itself), with explicit global position ids. ``bidirectional=False`` (ablation) is causal.
- Anchors (``get_uniform_position_ids(x_1=s+1, x_n=e+1)``): start = x_1 + (r-1)//2, or x_1 when that is
  >= x_n; anchors = arange(start, x_n, r), as POSITION ids (input index = position - 1). Anchors are
  existing tokens, not inserted: 512 input tokens at r = 5 give 102 + 1 = 103 anchors, at r = 4 128 + 1.
  A short tail chunk keeps one anchor (its first token). The ratio must be a whole number (the stride).
- Anchor ("role") embeddings: a Parameter (max anchors per chunk, hidden) ~ N(0, 0.02); row j is added to
  the token embedding of the j-th anchor of every chunk. Same here (rows = the anchors of a full chunk,
  102 at 5x; rows a short input never reaches stay untrained).
- Special tokens [AE] (0) and [LM] (1) ~ N(mean, std), the scalar mean and std of the whole embedding
  matrix. Same here (the decoder's matrix: they are decoder inputs; official compressor and decoder share
  one, so it is the same thing).
- LoRA on the compressor only, on peft's defaults (q_proj, v_proj); official r = 128. Here r = 8, alpha 16
  (the small models this toolkit trains). The decoder is a frozen separate copy without LoRA.
- Memory: per layer the compressor's K/V at the anchor indices (post-RoPE, so they carry their positions),
  concatenated over chunks, handed to the decoder as its cache. Every anchor is a slot, including anchors
  on BOS or prefix tokens (the input is 1 + |prefix| + n tokens). Here the slots over tokens before the
  context (and the optional sink / first token) are ``Memory.overhead_slots``: handed over and counted in
  the bytes, but not in the ratio n / context slots nor in the baselines' budget (which get BOS and the
  preamble on top of theirs too), so SAC and the baselines keep the same number of context-derived units.
- LM / QA: the decoder reads [LM] at position L (the last input position, not L + 1), then the prompt and
  the target at L + 1, L + 2, ... (``decoder_bos=False``: SAC's decoder reads only anchors + [LM]). QA's
  default layout is the official one (``prompt_format="sac"``, prompts.py): compressor input
  [BOS] + "### Context:\n" + context, decoder [LM] + "\n### Question:\n{q}\n### Answer:\n" + answer + eos, and
  the baselines read the same text verbatim. ``fewshot`` and ``chat`` stay options (their preamble then
  replaces "### Context:\n" in the compressor's input, for SAC and the baselines alike).
- Long contexts: every chunk of the context up to the evaluation's cap is encoded (a QA context of 2048
  tokens is 5 chunks), whatever length SAC was trained on; the role table has one row per anchor of a full
  chunk, so any number of chunks reuses it.
- AE: [AE] at position 0, then the compressor input ids + eos regenerated at positions 1..L+1 (teacher
  forced). The AE target is not cut to ``max_target_tokens`` (the official regenerates the whole input).
- Objective: on pretraining examples (here task "continuation") both the AE loss and the LM-continuation
  loss, loss = their mean (``pretrain_objective="ae+lm"``, the released 5x config; "lm" = LM loss only).
  Fine-tuning rows (QA, span recall, ...) train the answer loss (answer + eos) only. A batch's loss is the
  mean of its rows' losses (= the mean of single-example losses).

Where this differs: ``keep_first_token=True`` (off by default) also hands the decoder the K/V of the
first input token (BOS), an extra overhead slot without a role embedding (in the bytes, not the ratio). A pretrained
decoder parks attention on its first token (the attention sink of StreamingLLM, Xiao et al. 2024); without
it an untrained SAC on SmolLM2-135M is worse than no context at all (continuation target NLL 6.74 vs 4.80
for none, 64-token contexts, 4x), with it 4.17, better than truncation (4.51), uniform drop (4.35) and
Selective Context (4.38) before any training (``python benchmarks/sac_smollm2_probe.py``). The official runs
train long enough (20k+ steps) for the anchors to take that role.
``keep_sink=True`` (off by default, not in the official code) prepends a learned
``<compress>`` token at position 0 that every chunk token may attend to; its K/V are handed to the decoder
as an attention sink and counted as a slot. Chunks are not capped at ``max_context_tokens`` (a tiny LM
with short contexts simply has one chunk).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import torch

from datacomp.compressors.base import Compressor, CompressorConfig, Memory, freeze
from datacomp.compressors.batch import EncodedExample
from datacomp.compressors.decoding import Prefix, additive_mask, cache_layers, model_kwargs_cache, output_cache, \
    teacher_forced_nll
from datacomp.compressors.lora import add_lora
from datacomp.compressors.prompts import SAC_CONTEXT_HEAD
from datacomp.config_checks import one_of, positive
from datacomp.errors import ConfigError, DatacompError

PRETRAIN_OBJECTIVES = ("ae+lm", "lm")


@dataclasses.dataclass
class SACConfig(CompressorConfig):
    chunk_tokens: int = 510          # official: 510 input tokens per independently encoded chunk
    bidirectional: bool = True       # official: all-zero mask inside a chunk; False = causal (ablation)
    keep_sink: bool = False          # not official: a learned <compress> sink at position 0, handed over as a slot
    lora_rank: int = 8               # official: 128 at 1B; 8 suffices for the small LMs this toolkit trains
    lora_alpha: int = 16
    lora_targets: str = ""           # comma-separated module names; "" = peft's default (q_proj, v_proj), as official
    pretrain_objective: str = "ae+lm"  # continuation rows: mean of AE and LM losses (official 5x); "lm" = LM only
    context_prefix: str = SAC_CONTEXT_HEAD  # official: compressor input = [BOS] + prefix + context (layouts
                                            # with a preamble put the preamble here instead)
    prompt_format: str = "sac"       # official QA layout (prompts.py) for qa and span-recall; plain otherwise
    decoder_bos: bool = False        # SAC's decoder reads only anchors + [LM]
    keep_first_token: bool = False   # not official: also hand over the first input token's K/V (BOS) as a slot

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.ratio != int(self.ratio):
            raise ConfigError("ratio", f"must be a whole number for sac (the anchor stride), got {self.ratio}")
        one_of("pretrain_objective", self.pretrain_objective, PRETRAIN_OBJECTIVES)
        positive(self, "chunk_tokens", "lora_rank", "lora_alpha")


# ---- pure functions -----------------------------------------------------------------------------------
def chunk_bounds(n_input_tokens: int, chunk_tokens: int) -> list[tuple[int, int]]:
    """[s, e) input indices of each chunk."""
    return [(s, min(s + chunk_tokens, n_input_tokens)) for s in range(0, n_input_tokens, chunk_tokens)]


def chunk_anchor_positions(n_input_tokens: int, chunk_tokens: int, ratio: int) -> list[list[int]]:
    """Per chunk, the anchor position ids (input index + 1), official ``get_uniform_position_ids``."""
    out = []
    for s, e in chunk_bounds(n_input_tokens, chunk_tokens):
        x_1, x_n = s + 1, e + 1
        start = x_1 + (ratio - 1) // 2
        if start >= x_n:
            start = x_1
        out.append(list(range(start, x_n, ratio)))
    return out


def anchor_positions(n_input_tokens: int, chunk_tokens: int, ratio: int) -> list[int]:
    """Position ids of every anchor (input token i at position i + 1), chunk after chunk."""
    return [p for chunk in chunk_anchor_positions(n_input_tokens, chunk_tokens, ratio) for p in chunk]


def chunk_attention_mask(chunk_lengths: Sequence[int], bidirectional: bool = True, sink: bool = False,
                         dtype: torch.dtype = torch.float32, device=None) -> torch.Tensor:
    """(chunks, 1, W, W) additive mask, one right-padded chunk per row (column 0 = the sink when ``sink``):
    a chunk's valid tokens see each other (causally when not ``bidirectional``) and the sink; the sink sees
    itself only; padding keys are blocked; a padding query sees itself."""
    offset = int(sink)
    lengths = torch.tensor(list(chunk_lengths), device=device) + offset
    width = int(lengths.max())
    columns = torch.arange(width, device=device)
    valid = columns[None] < lengths[:, None]
    allowed = valid[:, None, :].expand(len(lengths), width, width).clone()
    if not bidirectional:
        allowed &= torch.ones(width, width, dtype=torch.bool, device=device).tril()
    if sink:
        allowed[:, 0, :] = False
    allowed[:, columns, columns] = True
    return additive_mask(allowed, dtype)


class SAC(Compressor):
    method = "sac"
    config_class = SACConfig

    def __init__(self, config: SACConfig, encoder, decoder, tokenizer, encoder_path: str = "",
                 decoder_path: str = ""):
        super().__init__(config, tokenizer, encoder_path, decoder_path)
        _check_same_cache_shape(encoder.config, decoder.config, encoder_path, decoder_path)
        from datacomp.models.tokenizer import tokenize_text

        self.stride = int(config.ratio)
        bos = tokenizer.bos_token_id
        self.input_head = ([int(bos)] if bos is not None else []) + tokenize_text(tokenizer, config.context_prefix)
        targets = tuple(t.strip() for t in config.lora_targets.split(",") if t.strip()) or None
        self.compressor = add_lora(encoder, config.lora_rank, config.lora_alpha, targets)
        self.decoder = freeze(decoder)
        # one role embedding per anchor slot of a full chunk: the table's shape depends on the config alone
        # (not on a prompt's length), so a saved SAC always loads into the SAC its config builds
        self.max_anchors = len(chunk_anchor_positions(config.chunk_tokens, config.chunk_tokens, self.stride)[0])
        hidden = encoder.config.hidden_size
        self.anchor_embeddings = torch.nn.Parameter(0.02 * torch.randn(self.max_anchors, hidden))
        weight = decoder.get_input_embeddings().weight.detach()
        mean, std = float(weight.mean()), float(weight.std())
        self.special_tokens = torch.nn.Parameter(mean + std * torch.randn(2, decoder.config.hidden_size))  # [AE], [LM]
        self.sink_token = torch.nn.Parameter(mean + std * torch.randn(1, hidden)) if config.keep_sink else None

    # ---- compressor ---------------------------------------------------------------------------------
    def input_ids(self, example: EncodedExample) -> list[int]:
        """The compressor's input: [BOS] + prefix + context (at positions 1..L). With a preamble (worked
        examples or a chat template's head, prompts.py) the preamble replaces the prefix, after BOS unless it
        starts with it: SAC's decoder reads only the anchors and [LM], so the preamble reaches it through them
        (the baselines and soft-prompt methods read it verbatim)."""
        if not example.preamble_ids:
            return self.input_head + list(example.context_ids)
        bos = self.tokenizer.bos_token_id
        head = list(example.preamble_ids)
        if bos is not None and head[:1] != [int(bos)]:
            head = [int(bos)] + head
        return head + list(example.context_ids)

    def trained_encoder_lm(self):
        """The LoRA'd compressor LM read as a plain causal LM (no anchor embeddings, causal attention), as
        ``models add --from-compressor`` exports it."""
        return self.compressor

    def compress(self, batch: Sequence[EncodedExample]) -> Memory:
        """Every chunk of every row in one compressor forward; per row, every layer's K/V at its anchors."""
        embed = self.compressor.get_input_embeddings()
        device = embed.weight.device
        offset = int(self.config.keep_sink)
        chunks: list[list[int]] = []     # token ids of each chunk
        starts: list[int] = []           # input index of each chunk's first token
        anchors: list[list[tuple[int, int, int]]] = []  # per row: (chunk row, column, anchor slot j)
        lengths: list[int] = []
        overhead: list[int] = []         # per row: slots over input tokens before the context, and the sink
        for example in batch:
            ids = self.input_ids(example)
            row_anchors = []
            for c, ((s, e), positions) in enumerate(zip(
                    chunk_bounds(len(ids), self.config.chunk_tokens),
                    chunk_anchor_positions(len(ids), self.config.chunk_tokens, self.stride))):
                if len(positions) > self.max_anchors:
                    raise DatacompError(f"sac: a chunk of {e - s} tokens has {len(positions)} anchors, more than "
                                        f"the {self.max_anchors} this config was built for (context longer "
                                        f"than max_context_tokens?)")
                index = len(chunks)
                chunks.append(ids[s:e])
                starts.append(s)
                if c == 0 and self.config.keep_first_token and positions[0] != 1:
                    row_anchors.append((index, offset, -1))   # the first token: a slot without role embedding
                row_anchors.extend((index, p - 1 - s + offset, j) for j, p in enumerate(positions))
            anchors.append(row_anchors)
            lengths.append(len(ids))
            head = len(ids) - len(example.context_ids)
            overhead.append(offset + sum(1 for ci, col, _ in row_anchors if starts[ci] + col - offset < head))
        n_chunks = len(chunks)
        width = max(len(c) for c in chunks)
        ids = torch.zeros(n_chunks, width, dtype=torch.long, device=device)
        positions = torch.zeros(n_chunks, width + offset, dtype=torch.long, device=device)
        for index, (tokens, s) in enumerate(zip(chunks, starts)):
            ids[index, :len(tokens)] = torch.tensor(tokens, dtype=torch.long, device=device)
            positions[index, offset:offset + len(tokens)] = torch.arange(s + 1, s + 1 + len(tokens), device=device)
        embeds = embed(ids)
        if offset:
            sink = self.sink_token.to(embeds.dtype)[None].expand(n_chunks, 1, -1)
            embeds = torch.cat([sink, embeds], dim=1)
        flat = [a for row in anchors for a in row]
        chunk_index = torch.tensor([a[0] for a in flat], dtype=torch.long, device=device)
        column_index = torch.tensor([a[1] for a in flat], dtype=torch.long, device=device)
        slot_index = torch.tensor([a[2] for a in flat], dtype=torch.long, device=device)
        addition = torch.zeros_like(embeds)
        roles = slot_index >= 0
        addition[chunk_index[roles], column_index[roles]] = self.anchor_embeddings.to(embeds.dtype)[slot_index[roles]]
        embeds = embeds + addition
        mask = chunk_attention_mask([len(c) for c in chunks], self.config.bidirectional, bool(offset),
                                    embeds.dtype, device)
        from transformers import DynamicCache

        out = self.compressor.model(inputs_embeds=embeds, attention_mask=mask, position_ids=positions,
                                    use_cache=True, **model_kwargs_cache(DynamicCache()))
        layers = cache_layers(output_cache(out))
        cache, row_positions, start = [], [], 0
        for row_anchors in anchors:
            picked = slice(start, start + len(row_anchors))
            start += len(row_anchors)
            ci, cj = chunk_index[picked], column_index[picked]
            if offset:   # the sink (identical in every chunk: it sees itself only), taken from the row's first chunk
                ci = torch.cat([ci[:1], ci])
                cj = torch.cat([cj.new_zeros(1), cj])
            cache.append([(k[ci, :, cj].transpose(0, 1), v[ci, :, cj].transpose(0, 1)) for k, v in layers])
            row_positions.append(positions[ci, cj])
        return Memory(n_context_tokens=[len(e.context_ids) for e in batch], positions=row_positions,
                      next_position=lengths, cache=cache, overhead_slots=overhead)

    # ---- decoder ------------------------------------------------------------------------------------
    def _special(self, index: int) -> torch.Tensor:
        weight = self.decoder.get_input_embeddings().weight
        return self.special_tokens[index:index + 1].to(device=weight.device, dtype=weight.dtype)

    def decoder_prefix(self, memory: Memory, batch: Sequence[EncodedExample]) -> Prefix:
        """LM / QA: the anchors' K/V, then [LM] at position L; the prompt follows at L + 1."""
        lm = self._special(1)
        return Prefix(embeds=[lm for _ in memory.next_position],
                      positions=[torch.tensor([n], device=lm.device) for n in memory.next_position],
                      next_position=[n + 1 for n in memory.next_position], cache=memory.cache)

    def autoencoding_prefix(self, memory: Memory, rows: Sequence[int]) -> Prefix:
        """AE: the anchors' K/V of ``rows``, then [AE] at position 0; the regenerated input follows at 1.."""
        ae = self._special(0)
        return Prefix(embeds=[ae for _ in rows], positions=[torch.zeros(1, dtype=torch.long, device=ae.device)
                                                            for _ in rows],
                      next_position=[1 for _ in rows], cache=[memory.cache[row] for row in rows])

    def autoencoding_target(self, example: EncodedExample) -> list[int]:
        eos = self.eos_token_id
        return self.input_ids(example) + ([eos] if eos is not None else [])

    def training_loss(self, batch: Sequence[EncodedExample]) -> torch.Tensor:
        """Per row: continuation (pretraining) rows the mean of the AE and LM losses ("ae+lm") or the LM
        loss ("lm"); other rows the answer loss. The batch loss is the mean over rows."""
        memory = self.compress(batch)
        lm = self.row_nll(batch, memory)
        ae_rows = [row for row, example in enumerate(batch) if example.task == "continuation"] \
            if self.config.pretrain_objective == "ae+lm" else []
        if not ae_rows:
            return lm.mean()
        ae = teacher_forced_nll(self.decoder, self.autoencoding_prefix(memory, ae_rows), [[] for _ in ae_rows],
                                [self.autoencoding_target(batch[row]) for row in ae_rows])
        losses = list(lm.unbind(0))
        for value, row in zip(ae.unbind(0), ae_rows):
            losses[row] = (losses[row] + value) / 2
        return torch.stack(losses).mean()


def _check_same_cache_shape(compressor_config, decoder_config, encoder_path, decoder_path) -> None:
    def shape(config):
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        return (config.num_hidden_layers, config.num_key_value_heads, head_dim)

    if shape(compressor_config) != shape(decoder_config):
        raise DatacompError(f"sac needs compressor and decoder with the same (layers, kv heads, head dim): "
                            f"{encoder_path} has {shape(compressor_config)}, {decoder_path} has "
                            f"{shape(decoder_config)}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="SAC's anchor layout for a compressor input of N tokens.")
    parser.add_argument("--tokens", type=int, default=512, help="compressor input tokens L (BOS + prefix + context)")
    parser.add_argument("--ratio", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=510)
    args = parser.parse_args()
    per_chunk = chunk_anchor_positions(args.tokens, args.chunk, args.ratio)
    for c, ((s, e), found) in enumerate(zip(chunk_bounds(args.tokens, args.chunk), per_chunk)):
        print(f"chunk {c}: input [{s}, {e}) positions {s + 1}..{e}: {len(found)} anchors, "
              f"first {found[0]}, last {found[-1]}")
    flat = [p for chunk in per_chunk for p in chunk]
    print(f"total anchors {len(flat)} (ratio {args.tokens / len(flat):.3f} over the whole input); "
          f"first {flat[0]}, last {flat[-1]}")
    print(f"decoder: [LM] at {args.tokens}, prompt from {args.tokens + 1}; [AE] at 0, AE target at 1..{args.tokens + 1}")
