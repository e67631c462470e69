"""The only code that runs a decoder: one batched teacher-forced NLL and one batched greedy decoder,
shared by every compressor and every text baseline (so "full context" differs from a compressor only in
its prefix, and their numbers are comparable).

A batch row is ``[prefix, prompt, target]``:

- ``Prefix`` holds, per row, what the decoder reads before the prompt: key/value slots handed over as a
  cache (SAC), and/or input embeddings at given positions (soft prompts, embedded context tokens, a
  start token); ``next_position`` is the position of the row's first prompt token.
- Rows are left-padded so that every row's prompt ends in the same column ``L``; targets follow,
  right-padded. Keys that are padding are blocked by an explicit additive mask whose blocked value is
  the compute dtype's most negative finite number (never -inf, so no NaN in fp16/bf16); a padding query
  attends to itself only. Positions are explicit per row, so padding never shifts a rotary position.
- ``teacher_forced_nll`` returns each row's mean -log p over its target tokens from ``loss_start`` on
  (differentiable: training uses it). ``nll_and_greedy`` computes that NLL and then decodes greedily from
  the same prefill (the cache is cut back to the prompt's end), one KV cache for the whole batch, each
  row stopping at eos on its own.
- ``pressed_prefix`` is a KV press's prefix (compressors/presses/): the prefill of the context, cut to the
  slots the press keeps, handed to the decoder as its cache.
"""

from __future__ import annotations

import dataclasses
from contextlib import nullcontext
from typing import Any, Sequence

import torch
import torch.nn.functional as F

KV = tuple[torch.Tensor, torch.Tensor]


@dataclasses.dataclass
class Prefix:
    """Per row: optional K/V slots (list over layers of (heads, c, head_dim) pairs), input embeddings
    (e, hidden) at ``positions`` (e,), and the position of the first token after the prefix."""

    embeds: list[torch.Tensor]
    positions: list[torch.Tensor]
    next_position: list[int]
    cache: list[list[KV]] | None = None

    def __len__(self) -> int:
        return len(self.embeds)


def model_kwargs_cache(cache) -> dict[str, Any]:
    """The cache keyword of the installed transformers (``cache`` since 5.x; ``past_key_values`` before)."""
    return {"cache": cache}


def output_cache(out):
    return out.cache


def cache_layers(cache: Any) -> list[KV]:
    """(key, value) per layer from a transformers Cache."""
    if cache is None:
        return []
    return [(layer.keys, layer.values) for layer in cache.layers]


def cache_from_layers(layers: Sequence[KV]):
    """A fresh DynamicCache holding these (key, value) tensors; the decoder may append to it freely."""
    from transformers import DynamicCache

    cache = DynamicCache()
    for index, (keys, values) in enumerate(layers):
        cache.update(keys, values, index)
    return cache


def blocked_value(dtype: torch.dtype) -> float:
    """The additive mask value for a blocked key: finite in ``dtype``."""
    return torch.finfo(dtype).min


def additive_mask(allowed: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(B, 1, Q, K) additive mask from a boolean (B, Q, K) 'may attend'."""
    mask = torch.zeros(allowed.shape, dtype=dtype, device=allowed.device)
    mask.masked_fill_(~allowed, blocked_value(dtype))
    return mask[:, None]


@dataclasses.dataclass
class DecoderInputs:
    """The padded batch the decoder reads in one forward (see the module docstring)."""

    inputs_embeds: torch.Tensor   # (B, L + T, hidden)
    position_ids: torch.Tensor    # (B, L + T)
    attention_mask: torch.Tensor  # (B, 1, L + T, C + L + T) additive
    cache: Any                    # DynamicCache of the prefix slots (B, heads, C, d), or None
    key_valid: torch.Tensor       # (B, C + L + T) bool
    prompt_end: int               # L: every row's last prompt token is column L - 1
    target_lengths: list[int]
    end_positions: list[int]      # per row: position of the token after its prompt
    n_cache: int                  # C


def build_inputs(decoder, prefix: Prefix, prompts: Sequence[Sequence[int]],
                 targets: Sequence[Sequence[int]] | None = None) -> DecoderInputs:
    embed = decoder.get_input_embeddings()
    device = embed.weight.device
    n_rows = len(prefix)
    targets = targets if targets is not None else [[] for _ in range(n_rows)]
    lefts, left_positions, ends = [], [], []
    for row in range(n_rows):
        prompt = torch.tensor(list(prompts[row]), dtype=torch.long, device=device)
        pieces = [prefix.embeds[row].to(device), embed(prompt)]
        start = prefix.next_position[row]
        positions = [prefix.positions[row].to(device).long(),
                     torch.arange(start, start + len(prompt), device=device)]
        lefts.append(torch.cat(pieces, dim=0))
        left_positions.append(torch.cat(positions))
        ends.append(start + len(prompt))
    width = max(int(piece.shape[0]) for piece in lefts)
    if min(int(piece.shape[0]) for piece in lefts) < 1:
        raise ValueError("every decoder row needs at least one position before its target")
    target_lengths = [len(t) for t in targets]
    n_target = max(target_lengths) if target_lengths else 0
    hidden = lefts[0].shape[-1]
    dtype = lefts[0].dtype
    inputs = torch.zeros(n_rows, width + n_target, hidden, dtype=dtype, device=device)
    positions = torch.zeros(n_rows, width + n_target, dtype=torch.long, device=device)
    valid = torch.zeros(n_rows, width + n_target, dtype=torch.bool, device=device)
    for row in range(n_rows):
        length = lefts[row].shape[0]
        inputs[row, width - length:width] = lefts[row]
        positions[row, width - length:width] = left_positions[row]
        valid[row, width - length:width] = True
        if target_lengths[row]:
            target = torch.tensor(list(targets[row]), dtype=torch.long, device=device)
            inputs[row, width:width + len(target)] = embed(target)
            positions[row, width:width + len(target)] = torch.arange(ends[row], ends[row] + len(target),
                                                                    device=device)
            valid[row, width:width + len(target)] = True
    cache, cache_valid = _padded_cache(prefix, device)
    n_cache = cache_valid.shape[1]
    key_valid = torch.cat([cache_valid, valid], dim=1)
    n_new = width + n_target
    causal = torch.ones(n_new, n_new, dtype=torch.bool, device=device).tril()
    allowed = torch.cat([cache_valid[:, None, :].expand(n_rows, n_new, n_cache),
                         causal[None] & valid[:, None, :]], dim=2)
    diagonal = torch.arange(n_new, device=device)
    allowed[:, diagonal, n_cache + diagonal] = True  # a padding query sees itself (no empty softmax)
    return DecoderInputs(inputs, positions, additive_mask(allowed, dtype), cache, key_valid, width,
                         target_lengths, ends, n_cache)


def _padded_cache(prefix: Prefix, device) -> tuple[Any, torch.Tensor]:
    """The rows' K/V slots left-padded into one DynamicCache, and which columns are real."""
    n_rows = len(prefix)
    if prefix.cache is None:
        return None, torch.zeros(n_rows, 0, dtype=torch.bool, device=device)
    lengths = [int(layers[0][0].shape[-2]) if layers else 0 for layers in prefix.cache]
    width = max(lengths)
    valid = torch.zeros(n_rows, width, dtype=torch.bool, device=device)
    for row, length in enumerate(lengths):
        valid[row, width - length:] = True
    n_layers = len(prefix.cache[0])
    layers = []
    for layer in range(n_layers):
        keys, values = prefix.cache[0][layer]
        shape = (n_rows, keys.shape[0], width, keys.shape[-1])
        padded_k = keys.new_zeros(shape, device=device)
        padded_v = values.new_zeros((n_rows, values.shape[0], width, values.shape[-1]), device=device)
        for row, length in enumerate(lengths):
            if length:
                row_k, row_v = prefix.cache[row][layer]
                padded_k[row, :, width - length:] = row_k.to(device)
                padded_v[row, :, width - length:] = row_v.to(device)
        layers.append((padded_k, padded_v))
    return cache_from_layers(layers), valid


def _forward(decoder, inputs: DecoderInputs, keep: int):
    return decoder(inputs_embeds=inputs.inputs_embeds, attention_mask=inputs.attention_mask,
                   position_ids=inputs.position_ids, use_cache=True, logits_to_keep=keep,
                   **model_kwargs_cache(inputs.cache if inputs.cache is not None else _empty_cache()))


def _empty_cache():
    from transformers import DynamicCache

    return DynamicCache()


def row_nll(logits: torch.Tensor, inputs: DecoderInputs, targets: Sequence[Sequence[int]],
            loss_starts: Sequence[int] | None = None) -> torch.Tensor:
    """(B,) mean NLL of each row's target tokens from ``loss_starts[row]`` on; ``logits`` (B, T + 1, V) are
    the last T + 1 columns (column 0 predicts target token 0). A row with no scored token gets NaN."""
    n_rows = logits.shape[0]
    n_target = logits.shape[1] - 1
    device = logits.device
    labels = torch.full((n_rows, n_target), -100, dtype=torch.long, device=device)
    for row, target in enumerate(targets):
        start = loss_starts[row] if loss_starts is not None else 0
        if len(target) > start:
            labels[row, start:len(target)] = torch.tensor(list(target)[start:], dtype=torch.long, device=device)
    losses = F.cross_entropy(logits[:, :-1].float().transpose(1, 2), labels, ignore_index=-100,
                             reduction="none")
    counts = (labels != -100).sum(dim=1)
    return losses.sum(dim=1) / counts  # NaN (0 / 0) where nothing is scored


def teacher_forced_nll(decoder, prefix: Prefix, prompts: Sequence[Sequence[int]],
                       targets: Sequence[Sequence[int]], loss_starts: Sequence[int] | None = None
                       ) -> torch.Tensor:
    """(B,) mean -log P(target | prefix, prompt) per row, teacher-forced, in nats (differentiable)."""
    inputs = build_inputs(decoder, prefix, prompts, targets)
    n_target = max(inputs.target_lengths)
    out = _forward(decoder, inputs, keep=n_target + 1)
    return row_nll(out.logits, inputs, targets, loss_starts)


@torch.no_grad()
def nll_and_greedy(decoder, prefix: Prefix, prompts: Sequence[Sequence[int]],
                   targets: Sequence[Sequence[int]] | None, max_new_tokens: int, eos_token_id: int | None
                   ) -> tuple[list[float | None], list[list[int]]]:
    """Per row: the teacher-forced target NLL (None without a target) and the greedy continuation after
    the prompt (eos not included), from one prefill and one batched KV cache."""
    inputs = build_inputs(decoder, prefix, prompts, targets)
    n_target = max(inputs.target_lengths) if targets is not None else 0
    out = _forward(decoder, inputs, keep=n_target + 1)
    nll: list[float | None] = [None] * len(prefix)
    if targets is not None and n_target:
        values = row_nll(out.logits, inputs, targets)
        nll = [None if not length else float(value) for value, length in zip(values.tolist(),
                                                                           inputs.target_lengths)]
    if max_new_tokens <= 0:
        return nll, [[] for _ in range(len(prefix))]
    keep_columns = inputs.n_cache + inputs.prompt_end
    cache = output_cache(out)
    if n_target:
        cache = cache_from_layers([(k[:, :, :keep_columns], v[:, :, :keep_columns]) for k, v in cache_layers(cache)])
    return nll, _greedy_loop(decoder, cache, inputs.key_valid[:, :keep_columns], out.logits[:, 0],
                             inputs.end_positions, max_new_tokens, eos_token_id)


def greedy_decode(decoder, prefix: Prefix, prompts: Sequence[Sequence[int]], max_new_tokens: int,
                  eos_token_id: int | None) -> list[list[int]]:
    """Greedy continuation of each row after [prefix, prompt] (eos not included)."""
    return nll_and_greedy(decoder, prefix, prompts, None, max_new_tokens, eos_token_id)[1]


def _greedy_loop(decoder, cache, key_valid: torch.Tensor, logits: torch.Tensor, end_positions: list[int],
                 max_new_tokens: int, eos_token_id: int | None) -> list[list[int]]:
    embed = decoder.get_input_embeddings()
    device = key_valid.device
    n_rows = key_valid.shape[0]
    generated: list[list[int]] = [[] for _ in range(n_rows)]
    done = torch.zeros(n_rows, dtype=torch.bool, device=device)
    positions = torch.tensor(end_positions, dtype=torch.long, device=device)
    for step in range(max_new_tokens):
        next_ids = logits.argmax(dim=-1)
        if eos_token_id is not None:
            done |= next_ids == eos_token_id
        for row in torch.nonzero(~done).flatten().tolist():
            generated[row].append(int(next_ids[row]))
        if bool(done.all()) or step == max_new_tokens - 1:
            break
        key_valid = torch.cat([key_valid, torch.ones(n_rows, 1, dtype=torch.bool, device=device)], dim=1)
        inputs_embeds = embed(next_ids[:, None])
        mask = additive_mask(key_valid[:, None, :], inputs_embeds.dtype)
        out = decoder(inputs_embeds=inputs_embeds, attention_mask=mask, position_ids=(positions + step)[:, None],
                      use_cache=True, logits_to_keep=1, **model_kwargs_cache(cache))
        cache = output_cache(out)
        logits = out.logits[:, -1]
    return generated


def token_prefix(decoder, rows: Sequence[Sequence[int]], start_token_id: int | None,
                 preambles: Sequence[Sequence[int]] | None = None) -> Prefix:
    """The prefix of a text baseline: a start token (e.g. the tokenizer's BOS, when given and the preamble
    does not already start with it), the row's preamble, then its kept context tokens, at positions 0.."""
    embed = decoder.get_input_embeddings()
    device = embed.weight.device
    embeds, positions, nexts = [], [], []
    for row, ids in enumerate(rows):
        head = list(preambles[row]) if preambles is not None else []
        if start_token_id is not None and head[:1] != [start_token_id]:
            head = [start_token_id] + head
        ids = head + list(ids)
        tensor = torch.tensor(ids, dtype=torch.long, device=device)
        embeds.append(embed(tensor))
        positions.append(torch.arange(len(ids), device=device))
        nexts.append(len(ids))
    return Prefix(embeds, positions, nexts)


@torch.no_grad()
def token_surprisal(decoder, rows: Sequence[Sequence[int]], start_token_id: int) -> list[list[float]]:
    """Per row, -log p(token | start token, earlier tokens) of every token, in nats (one batched
    teacher-forced pass; Selective Context's self-information)."""
    prefix = token_prefix(decoder, [[] for _ in rows], start_token_id)
    inputs = build_inputs(decoder, prefix, [[] for _ in rows], rows)
    n_target = max(inputs.target_lengths, default=0)
    if not n_target:
        return [[] for _ in rows]
    logits = _forward(decoder, inputs, keep=n_target + 1).logits[:, :-1].float()
    logp = torch.log_softmax(logits, dim=-1)
    out = []
    for row, ids in enumerate(rows):
        index = torch.tensor(list(ids), dtype=torch.long, device=logp.device)
        out.append((-logp[row, :len(ids)].gather(1, index[:, None])[:, 0]).tolist())
    return out


@torch.no_grad()
def pressed_prefix(decoder, contexts: Sequence[Sequence[int]], start_token_id: int | None,
                   preambles: Sequence[Sequence[int]], prompts: Sequence[Sequence[int]], press,
                   budgets: Sequence[int]) -> tuple[Prefix, list[torch.Tensor]]:
    """A KV press's prefix: one batched prefill of [start, preamble, context] (then the prompt, when the
    press reads the prompt's attention), and per row a cache of the start token's and the preamble's
    slots plus the ``budgets[row]`` context slots the press keeps in each layer and head; the prompt
    follows at its original positions. Returns it with each row's kept positions (layers, kv_heads, b)."""
    from datacomp.compressors.attention_probe import AttentionProbe, probing
    from datacomp.compressors.presses import PressInputs

    heads = token_prefix(decoder, contexts, start_token_id, preambles)
    reads_prompt = press.queries == "prompt"
    queries = [list(prompt) if reads_prompt else [] for prompt in prompts]
    inputs = build_inputs(decoder, heads, queries)
    width, device = inputs.prompt_end, inputs.inputs_embeds.device
    probe = None
    if reads_prompt:
        windows = torch.tensor([min(len(q), press.window) for q in queries], device=device)
        columns = torch.arange(width - int(windows.max()), width, device=device)
        probe = AttentionProbe(columns, columns[None, :] >= width - windows[:, None])
    elif press.queries == "last_context":
        probe = AttentionProbe(torch.tensor([width - 1], device=device),
                               torch.ones(len(contexts), 1, dtype=torch.bool, device=device))
    with probing(decoder, probe) if probe is not None else nullcontext():
        out = _forward(decoder, inputs, keep=1)
    layers = cache_layers(output_cache(out))
    caches, kept_rows = [], []
    for row, context in enumerate(contexts):
        n_head = heads.next_position[row] - len(context)
        start = width - heads.next_position[row] - len(queries[row])
        span = slice(start + n_head, start + n_head + len(context))
        attention = [probe.recorded[index][row, :, span] for index in range(len(layers))] if probe else None
        kept = press.kept(PressInputs([keys[row, :, span] for keys, _ in layers], attention, budgets[row]))
        cache = []
        for index, (keys, values) in enumerate(layers):
            gather = kept[index].to(device)[..., None].expand(-1, -1, keys.shape[-1])
            cache.append(tuple(torch.cat([part[row, :, start:start + n_head], part[row, :, span].gather(1, gather)],
                                         dim=1) for part in (keys, values)))
        caches.append(cache)
        kept_rows.append(kept)
    empty = heads.embeds[0].new_zeros(0, heads.embeds[0].shape[-1])
    nothing = torch.zeros(0, dtype=torch.long, device=device)
    return Prefix([empty] * len(contexts), [nothing] * len(contexts), list(heads.next_position), caches), kept_rows
