"""How a question is put to the decoder: the plain layout, or an instruct model's chat template.

``plain`` (SAC's QA layout): the decoder reads ``[BOS, context or memory, "\\n### Question:\\n{q}\\n### Answer:\\n"]``.
A base LM continues that with the answer; an instruct LM (SmolLM2-Instruct) answers in a sentence, which
the first-line extraction scores as is (EM 0 even with the full context).

``chat``: the decoder reads the tokenizer's chat template around one user turn,
``[head, context or memory, "\\n\\nQuestion: {q}\\n" + SHORT_ANSWER, tail]`` where ``head`` is the template up
to the user content (system prompt, user role header) and ``tail`` closes the turn and opens the
assistant's. ``head`` and ``tail`` are tokenized with their control tokens (they are the template's own),
the question as data (``tokenize_text``: a special-token string inside a question is text). The answer
target ends with eos, which for a chat model is its end-of-turn token.

``auto`` (the default) is ``chat`` for qa and span-recall when the tokenizer has a chat template, else
``plain``; other tasks are always plain. The resolved format is part of the compressor's config (training
and evaluation encode the same way) and of every evaluation's config.
"""

from __future__ import annotations

PROMPT_FORMATS = ("auto", "plain", "chat")
QA_TASKS = ("qa", "span-recall")
SHORT_ANSWER = "Answer with a few words copied from the text, nothing else."
_PLACEHOLDER = "\u2063CONTEXT\u2063"  # invisible separators: no template or text contains this


def resolve_format(prompt_format: str, tokenizer, task: str) -> str:
    """``plain`` or ``chat`` for this tokenizer and task."""
    from datacomp.errors import DatacompError

    if prompt_format not in PROMPT_FORMATS:
        raise DatacompError(f"prompt_format {prompt_format!r}: choose one of {', '.join(PROMPT_FORMATS)}")
    if task not in QA_TASKS:
        return "plain"
    if prompt_format == "auto":
        return "chat" if getattr(tokenizer, "chat_template", None) else "plain"
    if prompt_format == "chat" and not getattr(tokenizer, "chat_template", None):
        raise DatacompError("prompt_format 'chat': the tokenizer has no chat template")
    return prompt_format


def chat_parts(tokenizer) -> tuple[list[int], list[int]]:
    """(head ids, tail ids) of the chat template around one user message, with the assistant turn opened."""
    cache = getattr(tokenizer, "_datacomp_chat_parts", None)
    if cache is not None:
        return cache
    text = tokenizer.apply_chat_template([{"role": "user", "content": _PLACEHOLDER}], tokenize=False,
                                         add_generation_prompt=True)
    head, tail = text.split(_PLACEHOLDER)
    parts = (list(tokenizer(head, add_special_tokens=False)["input_ids"]),
             list(tokenizer(tail, add_special_tokens=False)["input_ids"]))
    tokenizer._datacomp_chat_parts = parts
    return parts


def chat_question(question: str) -> str:
    """The data part of the chat prompt after the context (tokenized as text)."""
    return f"\n\nQuestion: {question}\n{SHORT_ANSWER}"
