"""Task data: ``TaskExample``s from any slice of documents, or from a SQuAD v1.1 / MRQA file.

Every task is built from decoder-tokenizer windows, so "context length" and the ratio mean decoder tokens.

Tasks and their exact construction (all deterministic given the documents, the tokenizer and the seed):

- **reconstruction**: context = a window of ``context_tokens`` decoder tokens of a document; prompt =
  ``RECONSTRUCTION_PROMPT``; target = the context itself.
- **continuation**: context = the same window; prompt = "" (the target continues the context directly);
  target = the next ``continuation_tokens`` tokens of the document.
- **span-recall** (QA for corpora with no QA): from the window's text, split on whitespace into words.
  The first and the last word are never used (a token window may cut them in half). A start position is
  drawn uniformly at random (``random.Random(f"{seed}:{example_id}")``) among the positions where
  ``span_words`` + ``answer_words`` consecutive inner words fit; the span is those ``span_words`` words,
  the answer the ``answer_words`` words right after them. A span that occurs more than once in the
  window is ambiguous: other start positions are tried in the same seeded random order, and a window
  with no unique span is skipped (counted). question = ``SPAN_RECALL_QUESTION``; prompt = the QA layout.
  The answer is exactly the words that follow the span in the context.
- **qa**: SQuAD v1.1 JSON or MRQA JSONL (optionally .gz) by path. ``context_tokens`` is the cap: a longer
  context is cut to its first ``context_tokens`` tokens (every system reads at most that much); gold
  answers whose character span ends beyond the cap are dropped, and a question with no gold answer left
  is skipped, counted and named (``TaskData.skipped_ids``), never silently. Below the cap nothing is
  dropped: each example's ``answer_tokens`` (the context tokens up to the end of its earliest gold answer)
  lets evaluation count the questions whose answer a truncation budget cuts away instead.

Windows are taken from the start of each document, non-overlapping, at most ``windows_per_document``
per document; a window shorter than ``min_context_tokens`` is skipped (counted). With ``order="source"``
documents come in the slice's order (rank), or by doc_id for a corpus name, so a curriculum keeps its
order; evaluation uses ``order="hash"`` (sha256 of seed and doc_id / question id), so ``max_examples``
draws reproducibly across the whole slice rather than taking its first documents.

Prompt layout (SAC's): the decoder reads the context tokens (or the compressed memory in their place)
followed by the example's prompt, e.g. "\\n### Question:\\n...\\n### Answer:\\n" (compressors/base.py).

``extract_answer`` turns a greedy generation into the prediction that is scored: for qa and span-recall
the first non-empty line (span-recall: its first ``answer_words`` words, since the question asks for
exactly that many); for reconstruction and continuation the whole generation, stripped.
"""

from __future__ import annotations

import bisect
import dataclasses
import gzip
import hashlib
import json
import random
from pathlib import Path
from typing import Any, Iterable

from datacomp.compressors.example import RECONSTRUCTION_PROMPT, TaskExample
from datacomp.corpus.normalize import doc_id_of, normalize_text
from datacomp.errors import DatacompError

TASKS = ("reconstruction", "continuation", "qa", "span-recall")

QA_PROMPT = "\n### Question:\n{question}\n### Answer:\n"
SPAN_RECALL_QUESTION = 'Which {n} words follow "{span}" in the context?'


@dataclasses.dataclass
class TaskDataConfig:
    task: str = "reconstruction"
    context_tokens: int = 128        # decoder tokens per context: small enough for CPU, 4x..32x still whole
    min_context_tokens: int = 32     # shorter windows make the ratio meaningless (a handful of slots)
    windows_per_document: int = 1    # one window per document weights documents equally
    continuation_tokens: int = 32    # continuation target length, a sentence or two
    span_words: int = 8              # long enough to be unique in a window, short enough to be a "question"
    answer_words: int = 4            # a short answer, like SQuAD's (mean about 3 words)
    seed: int = 0                    # span positions (and, in evaluation, token dropping)
    max_examples: int | None = None  # at most this many examples, taken in ``order``
    order: str = "source"            # "source": slice rank / corpus doc_id / file order (curricula keep theirs);
                                     # "hash": by sha256(seed:doc_id), a reproducible draw across the whole source


@dataclasses.dataclass
class TaskData:
    """The examples plus how many candidates were skipped and why (reported, never silent)."""

    examples: list[TaskExample]
    skipped: dict[str, int] = dataclasses.field(default_factory=dict)
    skipped_ids: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # reason -> the ids, when named

    def skip(self, reason: str, example_id: str | None = None) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if example_id is not None:
            self.skipped_ids.setdefault(reason, []).append(example_id)


def extract_answer(task: str, generated: str, answer_words: int) -> str:
    """The part of a generation that is scored (see the module docstring)."""
    if task in ("qa", "span-recall"):
        line = next((line.strip() for line in generated.splitlines() if line.strip()), "")
        return " ".join(line.split()[:answer_words]) if task == "span-recall" else line
    return generated.strip()


def document_id(text: str) -> str:
    """The store's doc_id for a text (corpus.normalize: the one rule ingestion applies, BOM/CRLF/NFC/edges)."""
    return doc_id_of(normalize_text(text))


def qa_prompt(question: str) -> str:
    return QA_PROMPT.format(question=question)


def encode(tokenizer, text: str) -> list[int]:
    """Token ids of ``text`` (models.tokenizer.tokenize_text: the one tokenizing function)."""
    from datacomp.models.tokenizer import tokenize_text

    return tokenize_text(tokenizer, text)


def decode(tokenizer, ids: list[int]) -> str:
    # A cut inside a multi-byte character decodes to U+FFFD at the edge: drop it.
    return tokenizer.decode(ids, skip_special_tokens=True).strip("\ufffd")


# ---------------------------------------------------------------- documents from the store
def load_documents(store, name: str) -> list[tuple[str, str]]:
    """(doc_id, text) of slice ``name`` (slice_members, in rank order), else of corpus ``name``."""
    found = store.rows("compressors/slice_exists", {"slice": name})
    if found:
        if not found[0]["n_members"]:
            raise DatacompError(f"slice {name!r} has no members")
        rows = store.rows("compressors/slice_documents", {"slice": name})
    else:
        rows = store.rows("compressors/corpus_documents", {"corpus": name})
    if not rows:
        known = [f"{r['kind']} {r['name']}" for r in store.rows("compressors/known_sources")]
        raise DatacompError(f"no slice or corpus named {name!r} in the store "
                            f"(known: {', '.join(known) or 'none'})")
    return [(row["doc_id"], row["text"]) for row in rows]


# ---------------------------------------------------------------- document tasks
def hash_order(items: list, key, seed: int) -> list:
    """``items`` sorted by sha256("<seed>:<key(item)>"): a fixed pseudo-random order independent of the
    source's own (so a limit draws across every domain of a slice instead of taking its first rows)."""
    return sorted(items, key=lambda item: hashlib.sha256(f"{seed}:{key(item)}".encode()).hexdigest())


def ordered(items: list, key, config: TaskDataConfig) -> list:
    if config.order not in ("source", "hash"):
        raise DatacompError(f"task data order {config.order!r}: choose source or hash")
    return hash_order(items, key, config.seed) if config.order == "hash" else items


def document_examples(documents: Iterable[tuple[str, str]], tokenizer, config: TaskDataConfig) -> TaskData:
    """Reconstruction, continuation or span-recall examples from (doc_id, text) pairs."""
    documents = ordered(list(documents), lambda d: d[0], config)
    if config.task not in ("reconstruction", "continuation", "span-recall"):
        raise DatacompError(f"task {config.task!r} is not built from documents; "
                            "choose reconstruction, continuation or span-recall (qa needs --qa-file)")
    data = TaskData(examples=[])
    tag = {"reconstruction": "rec", "continuation": "cont", "span-recall": "span"}[config.task]
    min_tokens = min(config.min_context_tokens, config.context_tokens)
    for doc_id, text in documents:
        ids = encode(tokenizer, text)
        for window in range(config.windows_per_document):
            start = window * config.context_tokens
            context_ids = ids[start:start + config.context_tokens]
            if len(context_ids) < min_tokens:
                if window == 0:
                    data.skip("document_shorter_than_min_context_tokens")
                break
            context = decode(tokenizer, context_ids)
            example_id = f"{tag}:{doc_id[:16]}:{start}+{config.context_tokens}"
            example = _document_example(config, example_id, doc_id, context, ids,
                                        start + len(context_ids), tokenizer, data)
            if example is not None:
                data.examples.append(example)
                if config.max_examples is not None and len(data.examples) >= config.max_examples:
                    return data
    return data


def _document_example(config: TaskDataConfig, example_id: str, doc_id: str, context: str,
                      ids: list[int], end: int, tokenizer, data: TaskData) -> TaskExample | None:
    if config.task == "reconstruction":
        return TaskExample(example_id=example_id, task="reconstruction", context=context,
                           prompt=RECONSTRUCTION_PROMPT, target=context, answers=(context,), doc_id=doc_id)
    if config.task == "continuation":
        target_ids = ids[end:end + config.continuation_tokens]
        if not target_ids:
            data.skip("no_tokens_after_context")
            return None
        target = decode(tokenizer, target_ids)
        return TaskExample(example_id=example_id, task="continuation", context=context, prompt="",
                           target=target, answers=(target,), doc_id=doc_id)
    drawn = draw_span(context, config.span_words, config.answer_words, f"{config.seed}:{example_id}")
    if drawn is None:
        data.skip("no_unique_span_in_context")
        return None
    span, answer = drawn
    question = SPAN_RECALL_QUESTION.format(n=config.answer_words, span=span)
    return TaskExample(example_id=example_id, task="span-recall", context=context, prompt=qa_prompt(question),
                       target=answer, answers=(answer,), doc_id=doc_id, question=question)


def draw_span(context: str, span_words: int, answer_words: int, seed: str) -> tuple[str, str] | None:
    """(span, answer): a unique run of ``span_words`` inner words and the ``answer_words`` words after it."""
    words = context.split()
    inner_first, inner_end = 1, len(words) - 1  # the edge words may be cut tokens
    starts = list(range(inner_first, inner_end - span_words - answer_words + 1))
    random.Random(seed).shuffle(starts)
    for start in starts:
        span = words[start:start + span_words]
        occurrences = sum(words[i:i + span_words] == span for i in range(len(words) - span_words + 1))
        if occurrences == 1:
            answer = words[start + span_words:start + span_words + answer_words]
            return " ".join(span), " ".join(answer)
    return None


# ---------------------------------------------------------------- QA files
@dataclasses.dataclass(frozen=True)
class QAItem:
    """One question on one context; ``answer_starts`` are character offsets (None when unknown)."""

    qid: str
    question: str
    context: str
    answers: tuple[str, ...]
    answer_starts: tuple[int | None, ...]


def load_qa_file(path: str | Path) -> list[QAItem]:
    """SQuAD v1.1 JSON (``*.json``) or MRQA JSONL (``*.jsonl``, ``*.jsonl.gz``)."""
    path = Path(path)
    if not path.is_file():
        raise DatacompError(f"QA file not found: {path}")
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz")):
        return load_mrqa(path)
    if name.endswith(".json"):
        return load_squad(path)
    raise DatacompError(f"{path}: unknown QA file type; expected SQuAD v1.1 .json or MRQA .jsonl/.jsonl.gz")


def _field(record: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(record, dict):
        raise DatacompError(f"{where}: expected an object, found {type(record).__name__}")
    if key not in record:
        raise DatacompError(f"{where}: missing field {key!r}")
    value = record[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        wanted = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise DatacompError(f"{where}.{key}: expected {wanted}, found {type(value).__name__}")
    return value


def load_squad(path: str | Path) -> list[QAItem]:
    """Questions of a SQuAD v1.1 file; errors name the file and the JSON path of the bad field."""
    path = Path(path)
    try:
        root = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DatacompError(f"{path}: not valid JSON ({error})") from error
    items = []
    for a, article in enumerate(_field(root, "data", list, f"{path}")):
        for p, paragraph in enumerate(_field(article, "paragraphs", list, f"{path}: data[{a}]")):
            where = f"{path}: data[{a}].paragraphs[{p}]"
            context = _field(paragraph, "context", str, where)
            for q, qa in enumerate(_field(paragraph, "qas", list, where)):
                qwhere = f"{where}.qas[{q}]"
                qid = str(_field(qa, "id", (str, int), qwhere))
                question = _field(qa, "question", str, qwhere)
                texts, starts = [], []
                for k, answer in enumerate(_field(qa, "answers", list, qwhere)):
                    awhere = f"{qwhere}.answers[{k}]"
                    texts.append(_field(answer, "text", str, awhere))
                    starts.append(_field(answer, "answer_start", int, awhere))
                if not texts:
                    raise DatacompError(f"{qwhere}.answers: empty (SQuAD v1.1 questions all have answers)")
                items.append(QAItem(qid, question, context, tuple(texts), tuple(starts)))
    return items


def load_mrqa(path: str | Path) -> list[QAItem]:
    """Questions of an MRQA JSONL file (first line may be a {"header": ...}); errors name file:line.field."""
    path = Path(path)
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    items = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{line_number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DatacompError(f"{where}: not valid JSON ({error})") from error
            if isinstance(record, dict) and "header" in record:
                continue
            context = _field(record, "context", str, where)
            for q, qa in enumerate(_field(record, "qas", list, where)):
                qwhere = f"{where}: qas[{q}]"
                qid = str(_field(qa, "qid", (str, int), qwhere))
                question = _field(qa, "question", str, qwhere)
                texts, starts = _mrqa_answers(qa, qwhere)
                items.append(QAItem(qid, question, context, texts, starts))
    return items


def _mrqa_answers(qa: dict, where: str) -> tuple[tuple[str, ...], tuple[int | None, ...]]:
    """Detected answers with their first character span when present, else the plain answer strings."""
    texts: list[str] = []
    starts: list[int | None] = []
    for k, detected in enumerate(qa.get("detected_answers") or []):
        dwhere = f"{where}.detected_answers[{k}]"
        text = _field(detected, "text", str, dwhere)
        spans = _field(detected, "char_spans", list, dwhere)
        if not spans or not isinstance(spans[0], list) or len(spans[0]) != 2:
            raise DatacompError(f"{dwhere}.char_spans: expected [[start, end], ...]")
        texts.append(text)
        starts.append(int(spans[0][0]))
    if not texts:
        answers = _field(qa, "answers", list, where)
        if not answers or not all(isinstance(a, str) for a in answers):
            raise DatacompError(f"{where}.answers: expected a non-empty list of strings")
        texts, starts = list(answers), [None] * len(answers)
    return tuple(texts), tuple(starts)


def qa_examples(items: Iterable[QAItem], tokenizer, config: TaskDataConfig) -> TaskData:
    """QA examples with contexts cut to the cap ``context_tokens`` (decoder tokens); a question with no gold
    answer inside the cap is skipped and named ``qa:<qid>`` under ``answer_past_context_cap``."""
    data = TaskData(examples=[])
    cut_cache: dict[str, tuple[str, list[int] | None]] = {}
    for item in ordered(list(items), lambda q: q.qid, config):
        if item.context not in cut_cache:
            cut_cache[item.context] = _cut_context(tokenizer, item.context, config.context_tokens)
        context, token_ends = cut_cache[item.context]
        kept = [(text, start) for text, start in
                ((text, context.find(text) if start is None else start)
                 for text, start in zip(item.answers, item.answer_starts))
                if start >= 0 and start + len(text) <= len(context)]
        example_id = f"qa:{item.qid}"
        if not kept:
            data.skip("answer_past_context_cap", example_id)
            continue
        answer_end = min(start + len(text) for text, start in kept)
        data.examples.append(TaskExample(
            example_id=example_id, task="qa", context=context, prompt=qa_prompt(item.question),
            target=kept[0][0], answers=tuple(text for text, _ in kept), doc_id=document_id(item.context),
            question=item.question, answer_tokens=_tokens_covering(tokenizer, context, token_ends, answer_end)))
        if config.max_examples is not None and len(data.examples) >= config.max_examples:
            break
    return data


def _token_ends(tokenizer, text: str) -> tuple[list[int], list[int] | None]:
    """(ids, character end of each token) as ``encode`` tokenizes ``text``; ends are None when the
    tokenizer gives no offsets (a slow tokenizer)."""
    encoded = tokenizer(text, add_special_tokens=False, split_special_tokens=True, return_offsets_mapping=True)
    offsets = encoded.get("offset_mapping")
    return list(encoded["input_ids"]), ([int(end) for _, end in offsets] if offsets else None)


def _cut_context(tokenizer, context: str, max_tokens: int) -> tuple[str, list[int] | None]:
    """The longest prefix of ``context`` covered by its first ``max_tokens`` tokens (offsets when known),
    and the character end of each token of that prefix as the systems tokenize it."""
    ids, ends = _token_ends(tokenizer, context)
    if len(ids) > max_tokens:
        context = context[:ends[max_tokens - 1]] if ends else decode(tokenizer, ids[:max_tokens])
        ids, ends = _token_ends(tokenizer, context)
    return context, ends


def _tokens_covering(tokenizer, context: str, token_ends: list[int] | None, char_end: int) -> int:
    """How many leading tokens of ``context`` it takes to hold its characters up to ``char_end``: a
    truncation to b tokens keeps the answer iff b >= this."""
    if token_ends is None:
        return len(encode(tokenizer, context[:char_end]))
    return bisect.bisect_left(token_ends, char_end) + 1


def build_task_data(config: TaskDataConfig, tokenizer, store=None, source: str | None = None,
                    qa_file: str | Path | None = None) -> TaskData:
    """The one entry point: QA from ``qa_file``, every other task from slice/corpus ``source`` in ``store``."""
    if config.task not in TASKS:
        raise DatacompError(f"unknown task {config.task!r}; choose one of {', '.join(TASKS)}")
    if config.task == "qa":
        if qa_file is None:
            raise DatacompError("task qa needs --qa-file (SQuAD v1.1 .json or MRQA .jsonl)")
        return qa_examples(load_qa_file(qa_file), tokenizer, config)
    if store is None or source is None:
        raise DatacompError(f"task {config.task} needs a slice or corpus name")
    return document_examples(load_documents(store, source), tokenizer, config)
