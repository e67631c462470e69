"""The unit every compressor trains and is evaluated on."""

from __future__ import annotations

import dataclasses

# The prompt of the reconstruction task: task data and the autoencoder's objective must use the same text.
RECONSTRUCTION_PROMPT = "\nRestate the text:\n"


@dataclasses.dataclass(frozen=True)
class TaskExample:
    """One context to compress, the prompt the decoder gets with it, and what it should produce.

    ``task`` is reconstruction (prompt asks to restate the context; target = the context), continuation
    (target = the text after the context), qa (prompt = the question; target = the first gold answer;
    ``answers`` = all gold answers) or span-recall (prompt = a span quoted from the context; target = the
    words that follow it in the context).
    """

    example_id: str
    task: str
    context: str
    prompt: str
    target: str
    answers: tuple[str, ...] = ()
    doc_id: str | None = None
    question: str = ""   # the question's own text (qa, span-recall): COMI's query, without the prompt template
    answer_tokens: int | None = None  # qa: context tokens up to the end of the earliest gold answer (what a
                                      # truncation must keep to hold an answer; tasks.qa_examples)
