"""Task examples as token ids: the one place where a compressor's inputs are tokenized and cut.

``encode_example`` tokenizes with ``models.tokenizer.tokenize_text`` (the function scoring uses too, so
a text holding a special-token string is the same ids everywhere). Every method reads the same fields:

- ``context_ids``: the context, cut to ``max_context_tokens`` (``n_context_available`` keeps the
  uncut length, so evaluation can count what a cut lost);
- ``prompt_ids``: what the decoder reads after the memory (the task's prompt, e.g. the QA template);
- ``query_ids``: the question's own tokens (COMI's query), empty when the example has no question;
- ``target_ids``: the target cut to ``max_target_tokens``; a reconstruction target is the cut context
  itself. eos is appended except to continuation targets when ``continuation_eos`` is off (ICAE's
  LM objective: the text goes on, it does not end) and to ``fewshot`` answers (which end with a newline);
- ``loss_start``: the first target token that carries loss (ICAE leaves the first 8 tokens of a
  continuation without loss: they depend on the cut more than on the memory);
- ``preamble_ids``: what the decoder reads before the context or memory (the worked examples in the
  ``fewshot`` prompt format, the chat template's head in ``chat``, "### Context:\n" in ``sac``, prompts.py;
  empty in ``plain``).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from datacomp.errors import DatacompError


@dataclasses.dataclass
class EncodedExample:
    example_id: str
    task: str
    context_ids: list[int]
    prompt_ids: list[int]
    query_ids: list[int]
    target_ids: list[int]
    loss_start: int = 0
    n_context_available: int = 0
    preamble_ids: list[int] = dataclasses.field(default_factory=list)

    @property
    def length(self) -> int:
        """What bucketing sorts by: the tokens a compressor reads plus those its decoder reads."""
        return len(self.context_ids) + len(self.preamble_ids) + len(self.prompt_ids) + len(self.target_ids)


def encode_example(example, tokenizer, max_context_tokens: int, max_target_tokens: int,
                   continuation_eos: bool = True, continuation_loss_skip: int = 0,
                   prompt_format: str = "plain") -> EncodedExample:
    from datacomp.compressors.prompts import (SAC_CONTEXT_HEAD, chat_parts, chat_question, fewshot_head_ids,
                                              fewshot_question, resolve_format)
    from datacomp.models.tokenizer import tokenize_texts

    layout = resolve_format(prompt_format, tokenizer, example.task)
    prompt_text, target_text = example.prompt, example.target
    if layout == "chat":
        prompt_text = chat_question(example.question)
    elif layout == "fewshot":
        prompt_text = fewshot_question(example.question)
        target_text = f" {example.target}\n"   # as the worked examples end; no eos after it (below)
    context_all, prompt, question, target = tokenize_texts(
        tokenizer, [example.context, prompt_text, example.question, target_text])
    preamble: list[int] = []
    if layout == "chat":
        preamble, tail = chat_parts(tokenizer)
        prompt = prompt + tail
    elif layout == "fewshot":
        preamble = fewshot_head_ids(tokenizer)
    elif layout == "sac":
        preamble = tokenize_texts(tokenizer, [SAC_CONTEXT_HEAD])[0]
    context = context_all[:max_context_tokens]
    if not context:
        raise DatacompError(f"example {example.example_id}: field 'context' is empty")
    if example.task == "reconstruction":   # restate what the compressor actually read
        target = context[:max_target_tokens]
    else:
        target = target[:max_target_tokens]
    loss_start = 0
    eos = tokenizer.eos_token_id
    if example.task == "continuation":
        loss_start = min(continuation_loss_skip, max(len(target) - 1, 0))
        if continuation_eos and eos is not None:
            target = target + [int(eos)]
    elif eos is not None and layout != "fewshot":
        target = target + [int(eos)]
    return EncodedExample(example.example_id, example.task, context, prompt, question, target, loss_start,
                          len(context_all), list(preamble))


def encode_examples(examples: Sequence, tokenizer, config) -> list[EncodedExample]:
    """Every example encoded with a compressor config's limits and target rules."""
    return [encode_example(example, tokenizer, config.max_context_tokens, config.max_target_tokens,
                           config.continuation_eos, config.continuation_loss_skip, config.prompt_format)
            for example in examples]


def pad_rows(rows: Sequence[Sequence[int]], pad_id: int, device=None):
    """Right-padded (B, max length) long ids and their (B, max length) bool validity."""
    import torch

    width = max((len(row) for row in rows), default=0)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long, device=device)
    valid = torch.zeros((len(rows), width), dtype=torch.bool, device=device)
    for index, row in enumerate(rows):
        if row:
            ids[index, :len(row)] = torch.tensor(list(row), dtype=torch.long, device=device)
            valid[index, :len(row)] = True
    return ids, valid
