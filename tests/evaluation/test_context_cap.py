"""QA at real lengths: the context cap (min(request, window), stated), answers past truncation kept and
counted, answers past the cap skipped and named, a long document evaluated whole up to the cap."""

import json
import math

import pytest

from cli_capture import run_main
from datacomp.compressors.tasks import encode
from datacomp.errors import DatacompError
from datacomp.evaluation.context_cap import QA_CONTEXT_TOKENS, answer_outside_truncation, context_cap

FILLER = "The river runs past the old mill and the bakery on the square. "


def test_cap_is_the_request_or_the_task_default_within_the_smallest_window():
    windows = {"decoder d": 8192, "encoder e": 512}
    assert context_cap("qa", None, {"decoder d": 8192}).tokens == QA_CONTEXT_TOKENS == 2048
    small = context_cap("qa", None, windows)
    assert (small.tokens, small.window) == (512, 512)
    assert small.note == "context cap 512 tokens: the qa default 2048 exceeds the encoder e window of 512 positions"
    asked = context_cap("qa", 4096, {"decoder d": 128})
    assert asked.tokens == 128 and "--context-tokens 4096 exceeds the decoder d window of 128" in asked.note
    assert context_cap("qa", 300, windows).note == "context cap 300 tokens (--context-tokens 300; encoder e window 512)"
    # qa reads past what a compressor trained on; other tasks keep the compressor's length as default and limit
    assert context_cap("qa", None, {"decoder d": 8192}, compressor_tokens=256).tokens == 2048
    assert context_cap("reconstruction", None, {"decoder d": 8192}, compressor_tokens=256).tokens == 256
    assert context_cap("reconstruction", None, {"decoder d": 128}).tokens == 128
    assert context_cap("span-recall", None, {"decoder d": None}).note.endswith("model window unknown)")
    with pytest.raises(DatacompError, match="^context_tokens 300 exceeds the compressor's max_context_tokens 256"):
        context_cap("reconstruction", 300, windows, compressor_tokens=256)
    with pytest.raises(DatacompError, match="^context_tokens must be >= 1, not 0"):
        context_cap("qa", 0, windows)


class _Example:
    def __init__(self, example_id, answer_tokens):
        self.example_id, self.answer_tokens = example_id, answer_tokens


def test_answer_outside_truncation_reads_the_truncate_row_else_the_compressors_budget():
    examples = [_Example("a", 3), _Example("b", 9), _Example("c", 30)]
    rows = [{"system": s, "example_id": x, "n_context_tokens": 40, "n_slots": k}
            for x in "abc" for s, k in (("c-4x", 8), ("full", 40))]
    assert answer_outside_truncation(examples, rows, "c-4x", 4.0) == {"n": 2, "of": 3, "example_ids": ["b", "c"]}
    rows += [{"system": "truncate", "example_id": "b", "n_context_tokens": 40, "n_slots": 9}]
    assert answer_outside_truncation(examples, rows, "c-4x", 4.0)["example_ids"] == ["c"]
    baselines_only = [r for r in rows if r["system"] == "full"]   # ceil(40 / 2) = 20 tokens kept
    assert answer_outside_truncation(examples, baselines_only, None, 2.0)["example_ids"] == ["c"]
    assert answer_outside_truncation([_Example("a", None)], rows, None, 4.0) is None


def qa_file(tmp_path, context, answers):
    """A SQuAD v1.1 file, one paragraph, question i answered by answers[i] at its first occurrence."""
    qas = [{"id": f"q{i}", "question": f"Which word number {i}?",
            "answers": [{"text": text, "answer_start": context.index(text)}]} for i, text in enumerate(answers)]
    path = tmp_path / "qa.json"
    path.write_text(json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": [
        {"context": context, "qas": qas}]}]}))
    return path


def fewest_tokens(tokenizer, context, answer):
    """Independently of tasks.py: the fewest leading tokens whose decoded text holds the answer."""
    ids = encode(tokenizer, context)
    return next(t for t in range(1, len(ids) + 1) if answer in tokenizer.decode(ids[:t]))


def test_qa_answers_past_truncation_are_kept_and_counted_and_past_the_cap_skipped_and_named(
        capsys, store, tmp_path, tiny_lm_dir):
    from datacomp.models.loading import load_tokenizer

    tokenizer = load_tokenizer(tiny_lm_dir)
    context = "Paris is first. Hidalgo is in the middle. " + FILLER * 2 + "Zebra is last."
    path = qa_file(tmp_path, context, ["Paris", "Hidalgo", "Zebra"])
    assert fewest_tokens(tokenizer, context, "Zebra") > 48      # past the cap below
    db = str(store.path)
    store.close()
    code, out, err = run_main(capsys, "evaluate", "--compressor", "none", "--decoder", str(tiny_lm_dir), "--task", "qa",
                              "--qa-file", str(path), "--context-tokens", "48", "--ratio", "4", "--baselines",
                              "full,none,truncate", "--max-new-tokens", "2", "--limit", "0", "--db", db)
    assert code == 0, err
    flat = " ".join(out.split())
    assert "context cap 48 tokens (--context-tokens 48; decoder" in flat and "window 64)" in flat
    assert "skipped (answer_past_context_cap, 1): qa:q2" in flat
    assert "answer outside what truncate keeps: 1 of 2 questions (kept, not dropped)" in flat
    assert "layout plain" in flat
    from datacomp.store import open_store

    with open_store(db) as opened:
        rows = opened.con.execute("SELECT example_id, n_context_tokens, n_slots FROM evaluations "
                                  "WHERE system = 'truncate' ORDER BY example_id").fetchall()
        (counts,) = opened.con.execute("SELECT counts FROM runs WHERE stage = 'evaluate'").fetchone()
    assert [r[0] for r in rows] == ["qa:q0", "qa:q1"]           # below the cap nothing is dropped
    for example_id, n, kept in rows:
        assert n == 48 and kept == math.ceil(48 / 4)              # truncation keeps its budget from the start
    assert fewest_tokens(tokenizer, context, "Paris") <= 12 < fewest_tokens(tokenizer, context, "Hidalgo") <= 48
    counts = json.loads(counts)
    assert counts["qa_answer_outside_truncation"] == 1 and counts["skipped_answer_past_context_cap"] == 1


def test_long_document_qa_runs_whole_up_to_the_default_cap(store, tmp_path):
    from tests.conftest import build_tiny_lm
    from datacomp.evaluation.runner import EvalConfig, evaluate
    from datacomp.models.loading import load_tokenizer

    folder = build_tiny_lm(tmp_path / "long_lm", context=4096)
    tokenizer = load_tokenizer(folder)
    context = "Paris opens the paper. " + FILLER * 480 + "Zebra closes it."
    assert len(context) > 30_000 and len(encode(tokenizer, context)) > 2048
    path = qa_file(tmp_path, context, ["Paris", "Zebra"])
    summary = evaluate(store, EvalConfig(compressor="none", decoder=str(folder), task="qa", qa_file=str(path),
                                         limit=None, ratio=4, baselines=("full", "truncate"), max_new_tokens=1,
                                         prompt_format="sac"))
    assert summary.context_tokens == 2048
    assert summary.context_note.startswith("context cap 2048 tokens (the qa default 2048; decoder")
    assert summary.skipped_ids == {"answer_past_context_cap": ["qa:q1"]} and summary.n_examples == 1
    assert summary.prompt_format.startswith("sac:")
    lengths = store.con.execute("SELECT system, n_context_tokens, n_slots FROM evaluations ORDER BY system").fetchall()
    assert lengths == [("full", 2048, 2048), ("truncate", 2048, 512)]
    assert summary.answer_outside_truncation == {"n": 0, "of": 1, "example_ids": []}
