"""How a question is put to the decoder: plain, SAC's official layout, few-shot, or an instruct model's chat template.

``plain`` (SAC's QA layout): the decoder reads ``[BOS, context or memory, "\\n### Question:\\n{q}\\n### Answer:\\n"]``.
A base LM continues that with the answer; an instruct LM (SmolLM2-Instruct) answers in a sentence, which
the first-line extraction scores as is (EM 0 even with the full context).

``sac`` (SAC's official QA layout, lx-Meteors/SAC; the default of the ``sac`` method): every system reads
``[BOS, "### Context:\n", context or memory, "\n### Question:\n{q}\n### Answer:\n"]`` and the answer target
ends with eos. The head ``SAC_CONTEXT_HEAD`` is the preamble: the baselines and soft-prompt decoders read it
verbatim before the context, SAC's compressor reads it as the start of its input (its official
``[BOS] + "### Context:\n" + context``), so under this layout all systems see the same text.

``fewshot``: the decoder reads ``[BOS, head, context or memory, "\\nQuestion: {q}\\nAnswer:"]`` where ``head``
is worked examples in the same layout (``"Text:\\n{c}\\nQuestion: {q}\\nAnswer: {a}\\n\\n"`` for each of
``FEWSHOT``, then ``"Text:\\n"``), and the target is ``" {answer}\\n"`` (no eos: the worked examples end their
answers with a newline, so that is what the model predicts, where the first-line extraction cuts, and what a
trained compressor learns).
Measured with ``datacomp evaluate --compressor none`` on 48 SQuAD v1.1 dev questions (256-token contexts,
frozen SmolLM2-135M-Instruct): full context EM 29.2 / F1 40.3 in this layout (no context 2.1 / 5.0), against
EM 4.2 / F1 19.1 in ``chat`` with two worked examples and 4.2 / 19.0 with four and a system prompt.

``chat``: the decoder reads the tokenizer's chat template around one user turn,
``[head, context or memory, "\\n\\nQuestion: {q}\\n" + SHORT_ANSWER, tail]`` where ``head`` is the template up
to the user content (system prompt, two worked examples as user/assistant turns in the same layout, the
user role header) and ``tail`` closes the turn and opens the assistant's. ``head`` and ``tail`` are
tokenized with their control tokens (they are the template's own), the question as data (``tokenize_text``:
a special-token string inside a question is text). The answer target ends with eos, which for a chat model
is its end-of-turn token.

``auto`` (the default of every method but SAC) is, on an instruct tokenizer (one with a chat template), ``fewshot`` for qa and
``chat`` for span-recall; otherwise ``plain`` (a small reference LM's 128 positions could not hold the worked
examples); other tasks are always plain. The worked examples (``SHOTS``, ``FEWSHOT``) were written for this
toolkit, not taken from any benchmark. A trained compressor saves the resolved format (so it is evaluated in
the layout it was trained in); its identity and every evaluation's config carry the format's signature (with a
hash of its fixed tokens).
"""

from __future__ import annotations

PROMPT_FORMATS = ("auto", "plain", "fewshot", "chat", "sac")
SAC_CONTEXT_HEAD = "### Context:\n"   # SAC's official text before the context (compressor input and QA layout)
QA_TASKS = ("qa", "span-recall")
SHORT_ANSWER = "Answer with a few words copied from the text, nothing else."
SHOTS = (  # (context, question, answer): the answer format by example
    ("The Eiffel Tower was completed in 1889 as the entrance arch to the World's Fair held in Paris.",
     "When was the Eiffel Tower completed?", "1889"),
    ("Marie Curie shared the Nobel Prize in Physics in 1903 and won the Nobel Prize in Chemistry in 1911.",
     "Which prize did Marie Curie win in 1911?", "the Nobel Prize in Chemistry"),
)
FEWSHOT = SHOTS + (
    ("The Amazon River flows through Brazil, Peru and Colombia before it reaches the Atlantic Ocean.",
     "Which ocean does the Amazon River reach?", "the Atlantic Ocean"),
    ("In 1969 Neil Armstrong became the first person to walk on the Moon during the Apollo 11 mission.",
     "Who was the first person to walk on the Moon?", "Neil Armstrong"),
)
_PLACEHOLDER = "\u2063CONTEXT\u2063"  # invisible separators: no template or text contains this


def resolve_format(prompt_format: str, tokenizer, task: str) -> str:
    """``plain``, ``fewshot`` or ``chat`` for this tokenizer and task."""
    from datacomp.errors import DatacompError

    if prompt_format not in PROMPT_FORMATS:
        raise DatacompError(f"prompt_format {prompt_format!r}: choose one of {', '.join(PROMPT_FORMATS)}")
    if task not in QA_TASKS:
        return "plain"
    if prompt_format == "auto":
        if not getattr(tokenizer, "chat_template", None):
            return "plain"
        return "fewshot" if task == "qa" else "chat"
    if prompt_format == "chat" and not getattr(tokenizer, "chat_template", None):
        raise DatacompError("prompt_format 'chat': the tokenizer has no chat template")
    return prompt_format


def chat_parts(tokenizer) -> tuple[list[int], list[int]]:
    """(head ids, tail ids) of the chat template around one user message, with the assistant turn opened."""
    cache = getattr(tokenizer, "_datacomp_chat_parts", None)
    if cache is not None:
        return cache
    messages = []
    for context, question, answer in SHOTS:
        messages += [{"role": "user", "content": context + chat_question(question)},
                     {"role": "assistant", "content": answer}]
    messages.append({"role": "user", "content": _PLACEHOLDER})
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    head, tail = text.split(_PLACEHOLDER)
    parts = (list(tokenizer(head, add_special_tokens=False)["input_ids"]),
             list(tokenizer(tail, add_special_tokens=False)["input_ids"]))
    tokenizer._datacomp_chat_parts = parts
    return parts


def fewshot_head() -> str:
    """What the decoder reads before the context in the ``fewshot`` layout (tokenized as text)."""
    return "".join(f"Text:\n{c}{fewshot_question(q)} {a}\n\n" for c, q, a in FEWSHOT) + "Text:\n"


def fewshot_head_ids(tokenizer) -> list[int]:
    """``fewshot_head`` as token ids (tokenized as text), once per tokenizer."""
    cache = getattr(tokenizer, "_datacomp_fewshot_head", None)
    if cache is None:
        from datacomp.models.tokenizer import tokenize_text

        cache = tokenizer._datacomp_fewshot_head = tokenize_text(tokenizer, fewshot_head())
    return cache


def fewshot_question(question: str) -> str:
    """What the decoder reads after the context in the ``fewshot`` layout; the answer follows a space."""
    return f"\nQuestion: {question}\nAnswer:"


def chat_question(question: str) -> str:
    """The data part of the chat prompt after the context (tokenized as text)."""
    return f"\n\nQuestion: {question}\n{SHORT_ANSWER}"


def prompt_signature(prompt_format: str, tokenizer, task: str) -> str:
    """What decides the prompt tokens, for run identities: the resolved format and, for fewshot and chat, a
    hash of the fixed text or of the template's head and tail ids and of the question wording (so editing the
    shots gives new ids)."""
    import hashlib
    import json

    resolved = resolve_format(prompt_format, tokenizer, task)
    if resolved == "plain":
        return "plain"
    if resolved == "sac":
        from datacomp.compressors.tasks import QA_PROMPT

        return "sac:" + hashlib.sha256(json.dumps([SAC_CONTEXT_HEAD, QA_PROMPT]).encode()).hexdigest()[:12]
    if resolved == "fewshot":
        payload = json.dumps([fewshot_head(), fewshot_question("{q}")]).encode()
        return "fewshot:" + hashlib.sha256(payload).hexdigest()[:12]
    head, tail = chat_parts(tokenizer)
    payload = json.dumps([head, tail, chat_question("{q}")]).encode()
    return "chat:" + hashlib.sha256(payload).hexdigest()[:12]
