"""Task data: windows, span-recall construction, SQuAD/MRQA parsing and its errors, slice resolution."""

import gzip
import json

import pytest

from datacomp.compressors.tasks import (
    RECONSTRUCTION_PROMPT,
    TaskDataConfig,
    build_task_data,
    document_examples,
    document_id,
    draw_span,
    encode,
    load_documents,
    load_qa_file,
    qa_examples,
)
from datacomp.errors import DatacompError

DOC = ("Alice walked to the market on Monday and bought seven green apples for her aunt. "
       "Bob stayed home reading a long novel about sailors crossing the cold northern sea. "
       "Later that evening they met at the station and talked about the strange weather.")


@pytest.fixture(scope="module")
def tokenizer(tiny_lm_dir):
    from datacomp.models.loading import load_tokenizer

    return load_tokenizer(tiny_lm_dir)


def insert_document(store, doc_id, corpus, text):
    store.con.execute(
        "INSERT INTO documents (doc_id, corpus, domain, text, n_chars, n_bytes, source) "
        "VALUES ($id, $corpus, 'web', $text, $n, $n, 'test')",
        {"id": doc_id, "corpus": corpus, "text": text, "n": len(text)})


def test_reconstruction_windows_are_decoder_token_windows(tokenizer):
    ids = encode(tokenizer, DOC)
    config = TaskDataConfig(task="reconstruction", context_tokens=20, min_context_tokens=5, windows_per_document=3)
    data = document_examples([("d1", DOC)], tokenizer, config)
    assert [e.example_id for e in data.examples] == ["rec:d1:0+20", "rec:d1:20+20", "rec:d1:40+20"]
    for k, example in enumerate(data.examples):
        assert example.context == tokenizer.decode(ids[20 * k:20 * (k + 1)])
        assert example.target == example.context and example.answers == (example.context,)
        assert example.prompt == RECONSTRUCTION_PROMPT and example.doc_id == "d1"
    assert "".join(e.context for e in data.examples) == tokenizer.decode(ids[:60])


def test_short_documents_are_counted_not_dropped_silently(tokenizer):
    config = TaskDataConfig(task="reconstruction", context_tokens=64, min_context_tokens=32)
    data = document_examples([("short", "Too short."), ("long", DOC)], tokenizer, config)
    assert [e.doc_id for e in data.examples] == ["long"]
    assert data.skipped == {"document_shorter_than_min_context_tokens": 1}


def test_continuation_target_follows_the_context(tokenizer):
    config = TaskDataConfig(task="continuation", context_tokens=16, min_context_tokens=8, continuation_tokens=10)
    (example,) = document_examples([("d1", DOC)], tokenizer, config).examples
    ids = encode(tokenizer, DOC)
    assert example.prompt == ""
    assert example.target == tokenizer.decode(ids[16:26])
    assert DOC.startswith(example.context + example.target)


def test_span_recall_answer_truly_follows_the_span(tokenizer):
    config = TaskDataConfig(task="span-recall", context_tokens=80, min_context_tokens=16, span_words=5,
                            answer_words=3, windows_per_document=2)
    data = document_examples([("d1", DOC), ("d2", DOC[::-1].title())], tokenizer, config)
    assert len(data.examples) >= 3
    for example in data.examples:
        words = example.context.split()
        span = example.prompt.split('"')[1].split()
        answer = example.target.split()
        assert len(span) == 5 and len(answer) == 3 and example.answers == (example.target,)
        starts = [i for i in range(len(words)) if words[i:i + 5] == span]
        assert len(starts) == 1                                  # the span is unique in the context
        assert words[starts[0] + 5:starts[0] + 8] == answer      # and the answer is what follows it
        assert 1 <= starts[0] and starts[0] + 8 <= len(words) - 1  # edge words (maybe cut) never used
        assert "Which 3 words follow" in example.prompt and example.prompt.endswith("### Answer:\n")
    again = document_examples([("d1", DOC), ("d2", DOC[::-1].title())], tokenizer, config)
    assert again.examples == data.examples                    # deterministic


def test_span_recall_seed_moves_the_span_and_ambiguous_windows_are_skipped():
    context = " ".join(f"w{i}" for i in range(40))
    spans = {draw_span(context, 4, 2, f"{seed}:x") for seed in range(10)}
    assert len(spans) > 3
    for span, answer in spans:
        start = int(span.split()[0][1:])
        assert answer == f"w{start + 4} w{start + 5}"
    assert draw_span("x " * 30, 4, 2, "0:x") is None          # every span repeats: nothing unique


def test_span_recall_skip_is_counted(tokenizer):
    config = TaskDataConfig(task="span-recall", context_tokens=40, min_context_tokens=8)
    data = document_examples([("rep", "la " * 60)], tokenizer, config)
    assert data.examples == [] and data.skipped == {"no_unique_span_in_context": 1}


def squad_file(tmp_path, answers_2=None):
    context = "Paris is the capital of France. The Seine flows through Paris. " * 2 + "Its mayor is Anne Hidalgo."
    root = {"version": "1.1", "data": [{"title": "Paris", "paragraphs": [{"context": context, "qas": [
        {"id": "q1", "question": "What is the capital of France?",
         "answers": [{"text": "Paris", "answer_start": 0}, {"text": "Paris", "answer_start": 0}]},
        {"id": "q2", "question": "Who is the mayor?",
         "answers": answers_2 if answers_2 is not None else
         [{"text": "Anne Hidalgo", "answer_start": context.index("Anne")}]},
    ]}]}]}
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps(root))
    return path, context


def test_squad_parsing_and_context_cut(tokenizer, tmp_path):
    path, context = squad_file(tmp_path)
    items = load_qa_file(path)
    assert [i.qid for i in items] == ["q1", "q2"]
    assert items[0].answers == ("Paris", "Paris") and items[1].answer_starts == (context.index("Anne"),)
    full = qa_examples(items, tokenizer, TaskDataConfig(task="qa", context_tokens=500))
    assert [e.example_id for e in full.examples] == ["qa:q1", "qa:q2"]
    assert full.examples[1].context == context and full.examples[1].target == "Anne Hidalgo"
    assert full.examples[0].doc_id == document_id(context)
    assert "Who is the mayor?" in full.examples[1].prompt
    cut = qa_examples(items, tokenizer, TaskDataConfig(task="qa", context_tokens=10))
    assert [e.example_id for e in cut.examples] == ["qa:q1"]      # the mayor is beyond the cap of 10 tokens
    assert cut.skipped == {"answer_past_context_cap": 1}
    assert cut.skipped_ids == {"answer_past_context_cap": ["qa:q2"]}  # named, not only counted
    assert context.startswith(cut.examples[0].context) and len(encode(tokenizer, cut.examples[0].context)) <= 10


def test_answer_tokens_are_the_leading_tokens_that_hold_the_earliest_answer(tokenizer, tmp_path):
    path, context = squad_file(tmp_path)
    examples = qa_examples(load_qa_file(path), tokenizer, TaskDataConfig(task="qa", context_tokens=500)).examples
    ids = encode(tokenizer, context)
    for example, answer_end in zip(examples, (len("Paris"), context.index("Anne") + len("Anne Hidalgo"))):
        # independently: the fewest leading tokens whose decoded text reaches the answer's last character
        fewest = next(t for t in range(1, len(ids) + 1) if len(tokenizer.decode(ids[:t])) >= answer_end)
        assert example.answer_tokens == fewest
        assert example.answers[0] in tokenizer.decode(ids[:fewest])
        assert example.answers[0] not in tokenizer.decode(ids[:fewest - 1])
    assert examples[1].answer_tokens > 10          # past a 10-token truncation, yet kept below the cap


@pytest.mark.parametrize("answers_2, message", [
    ([{"text": "Anne"}], r"tiny-squad.json: data\[0\].paragraphs\[0\].qas\[1\].answers\[0\]: missing field 'answer_start'"),
    ([{"text": "Anne", "answer_start": "7"}], r"qas\[1\].answers\[0\].answer_start: expected int, found str"),
    ([], r"qas\[1\].answers: empty"),
])
def test_malformed_squad_names_file_and_field(tmp_path, answers_2, message):
    path, _ = squad_file(tmp_path, answers_2=answers_2)
    with pytest.raises(DatacompError, match=message):
        load_qa_file(path)


def test_squad_not_json_or_missing_data(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DatacompError, match="bad.json: not valid JSON"):
        load_qa_file(bad)
    bad.write_text(json.dumps({"version": "1.1"}))
    with pytest.raises(DatacompError, match="bad.json: missing field 'data'"):
        load_qa_file(bad)
    with pytest.raises(DatacompError, match="QA file not found"):
        load_qa_file(tmp_path / "absent.json")


def mrqa_lines():
    context = "The Nile is the longest river in Africa."
    return [
        {"header": {"dataset": "Tiny", "split": "dev"}},
        {"id": "c1", "context": context, "qas": [
            {"qid": "m1", "question": "Which river is longest?",
             "detected_answers": [{"text": "The Nile", "char_spans": [[0, 7]], "token_spans": [[0, 1]]}],
             "answers": ["The Nile", "Nile"]},
            {"qid": "m2", "question": "Where?", "answers": ["Africa"]},
        ]},
    ]


def test_mrqa_parsing_plain_and_gzip(tmp_path):
    plain = tmp_path / "tiny.jsonl"
    plain.write_text("\n".join(json.dumps(x) for x in mrqa_lines()) + "\n")
    zipped = tmp_path / "tiny.jsonl.gz"
    with gzip.open(zipped, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(json.dumps(x) for x in mrqa_lines()))
    for path in (plain, zipped):
        items = load_qa_file(path)
        assert [(i.qid, i.answers, i.answer_starts) for i in items] == [
            ("m1", ("The Nile",), (0,)), ("m2", ("Africa",), (None,))]


@pytest.mark.parametrize("line, message", [
    ("{broken", r"tiny.jsonl:2: not valid JSON"),
    (json.dumps({"id": "c", "qas": []}), r"tiny.jsonl:2: missing field 'context'"),
    (json.dumps({"context": "x", "qas": [{"question": "q", "answers": ["a"]}]}),
     r"tiny.jsonl:2: qas\[0\]: missing field 'qid'"),
    (json.dumps({"context": "x", "qas": [{"qid": "q", "question": "q", "answers": []}]}),
     r"tiny.jsonl:2: qas\[0\].answers: expected a non-empty list"),
])
def test_malformed_mrqa_names_file_line_and_field(tmp_path, line, message):
    path = tmp_path / "tiny.jsonl"
    path.write_text(json.dumps(mrqa_lines()[0]) + "\n" + line + "\n")
    with pytest.raises(DatacompError, match=message):
        load_qa_file(path)


def test_sources_resolve_slice_first_then_corpus(store, tokenizer):
    insert_document(store, "b", "web", DOC)
    insert_document(store, "a", "web", DOC.upper())
    insert_document(store, "c", "code", DOC.lower())
    assert [d for d, _ in load_documents(store, "web")] == ["a", "b"]
    store.con.execute("INSERT INTO slices (slice_id, kind) VALUES ('web', 'definition')")           # a slice shadows the corpus
    store.con.execute("INSERT INTO slice_members VALUES ('web', 'c', 0, NULL), ('web', 'b', 1, NULL)")
    assert [d for d, _ in load_documents(store, "web")] == ["c", "b"]         # in rank order
    store.con.execute("INSERT INTO slices (slice_id, kind) VALUES ('empty', 'definition')")
    with pytest.raises(DatacompError, match="slice 'empty' has no members"):
        load_documents(store, "empty")
    with pytest.raises(DatacompError, match=r"no slice or corpus named 'nope'.*corpus code"):
        load_documents(store, "nope")
    data = build_task_data(TaskDataConfig(task="reconstruction", context_tokens=16, max_examples=1),
                           tokenizer, store=store, source="code")
    assert len(data.examples) == 1 and data.examples[0].doc_id == "c"
    with pytest.raises(DatacompError, match="task qa needs --qa-file"):
        build_task_data(TaskDataConfig(task="qa"), tokenizer, store=store, source="code")


def test_extract_answer_per_task():
    from datacomp.compressors.tasks import extract_answer

    assert extract_answer("qa", "\n  Denver Broncos \n### Question:\nmore", 4) == "Denver Broncos"
    assert extract_answer("span-recall", "one two three four five\nsix", 3) == "one two three"
    assert extract_answer("qa", "", 4) == ""
    assert extract_answer("reconstruction", "  line one\nline two \n", 4) == "line one\nline two"


def test_hash_order_draws_across_the_source_reproducibly(tiny_lm_dir):
    """A limit in hash order is not the first documents: it is a fixed draw (same seed, same examples), and a
    larger limit extends it (the examples of the smaller one come first)."""
    from transformers import AutoTokenizer

    from datacomp.compressors.tasks import TaskDataConfig, document_examples, hash_order

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_lm_dir))
    documents = [(f"{domain}-{i:02d}", f"{domain} document number {i} " * 8)
                 for domain in ("code", "poetry") for i in range(20)]
    def draw(limit, seed=0):
        config = TaskDataConfig(task="reconstruction", context_tokens=16, min_context_tokens=8, max_examples=limit,
                                seed=seed, order="hash")
        return [e.doc_id for e in document_examples(documents, tokenizer, config).examples]
    first = draw(10)
    assert first == draw(10) and draw(20)[:10] == first
    assert first != [d for d, _ in documents[:10]]                           # not the source's prefix
    assert {d.split("-")[0] for d in first} == {"code", "poetry"}           # both halves of the source
    assert draw(10, seed=1) != first
    assert first == [d for d, _ in hash_order(documents, lambda d: d[0], 0)][:10]
    prefix = TaskDataConfig(task="reconstruction", context_tokens=16, min_context_tokens=8, max_examples=3)
    assert [e.doc_id for e in document_examples(documents, tokenizer, prefix).examples] == \
        ["code-00", "code-01", "code-02"]                                    # source order: a curriculum's own
