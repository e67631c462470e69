"""The runner: one row per (system, example), no duplicates on re-run, matched budgets, gains."""

import math

import pytest
import torch

from datacomp.compressors.base import Compressor, CompressorConfig, Memory
from datacomp.compressors.tasks import TaskDataConfig, document_examples, encode, extract_answer
from datacomp.errors import ConfigError, DatacompError, command_line_text
from datacomp.evaluation.runner import EvalConfig, EvalSetup, evaluate, run_evaluation, summarize

BASELINES = ("full", "none", "truncate", "drop", "selective")

TEXTS = [
    "Alice walked to the market on Monday and bought seven green apples for her aunt who lives nearby.",
    "Bob stayed home reading a long novel about sailors crossing the cold northern sea in winter storms.",
    "Later that evening they met at the station and talked about the strange weather of the last week.",
]


class EveryRthToken(Compressor):
    """A fake compressor: the memory is the decoder's own embeddings of every r-th context token (after
    BOS, which the base class puts first), so it equals a text baseline that keeps those tokens."""

    method = "every-rth"

    def __init__(self, model, tokenizer, ratio: int, max_context_tokens: int):
        super().__init__(CompressorConfig(ratio=ratio, max_context_tokens=max_context_tokens), tokenizer,
                         "fake", "fake")
        self.decoder = model

    def compress(self, batch):
        embed = self.decoder.get_input_embeddings()
        kept = [torch.tensor(e.context_ids[::int(self.config.ratio)]) for e in batch]
        return Memory(n_context_tokens=[len(e.context_ids) for e in batch],
                      positions=[torch.arange(len(k)) for k in kept], next_position=[len(k) for k in kept],
                      embeddings=[embed(k) for k in kept])


@pytest.fixture(scope="module")
def lm(tiny_lm_dir):
    from datacomp.models.loading import load_causal_lm

    model, tokenizer = load_causal_lm(tiny_lm_dir)
    return model.requires_grad_(False), tokenizer  # a frozen decoder: no @tuned baselines


def make_setup(lm, task="span-recall", with_compressor=True, context_tokens=40):
    model, tokenizer = lm
    config = TaskDataConfig(task=task, context_tokens=context_tokens, min_context_tokens=8, span_words=3,
                            answer_words=2)
    data = document_examples([(f"doc{i}", text) for i, text in enumerate(TEXTS)], tokenizer, config)
    compressor = EveryRthToken(model, tokenizer, 4, context_tokens) if with_compressor else None
    return EvalSetup(decoder=model, tokenizer=tokenizer, decoder_id="tiny", examples=data.examples,
                     context_tokens=context_tokens, ratio=4.0, eval_slice="web", compressor=compressor,
                     compressor_id="every-rth-4x" if with_compressor else None,
                     method="every-rth" if with_compressor else None, skipped=data.skipped)


def table(store):
    return store.con.execute("SELECT system, example_id, n_context_tokens, n_slots, ratio_actual, prediction, "
                             "f1, em, memory_bytes FROM evaluations ORDER BY system, example_id").fetchall()


def test_one_row_per_system_and_example_and_rerun_adds_none(store, lm):
    setup = make_setup(lm)
    config = EvalConfig(compressor="every-rth-4x", task="span-recall", span_words=3, answer_words=2,
                        max_new_tokens=6)
    summary = run_evaluation(store, config, setup)
    n = len(setup.examples)
    assert n >= 2
    rows = table(store)
    assert len(rows) == 6 * n and summary.n_rows_written == 6 * n
    assert {(r[0], r[1]) for r in rows} == {(s, e.example_id) for s in ("every-rth-4x",) + BASELINES
                                            for e in setup.examples}
    again = run_evaluation(store, config, setup)
    assert again.n_rows_written == 0 and table(store) == rows
    assert [s.system for s in again.systems] == ["every-rth-4x", *BASELINES]
    assert all(s.n_examples == n for s in again.systems)
    runs = store.con.execute("SELECT count(*) FROM runs WHERE stage = 'evaluate' AND status = 'finished'").fetchone()
    assert runs[0] == 2


def test_budgets_match_the_compressor_and_predictions_are_independent_greedy(store, lm):
    model, tokenizer = lm
    setup = make_setup(lm)
    config = EvalConfig(compressor="every-rth-4x", task="span-recall", span_words=3, answer_words=2,
                        max_new_tokens=6)
    run_evaluation(store, config, setup)
    rows = {(r[0], r[1]): r for r in table(store)}
    hidden = model.config.hidden_size
    for example in setup.examples:
        context = encode(tokenizer, example.context)[:40]
        prompt = encode(tokenizer, example.prompt)
        n, k = len(context), math.ceil(len(context) / 4)
        compressed = rows[("every-rth-4x", example.example_id)]
        assert compressed[2:5] == (n, k, pytest.approx(n / k))
        assert compressed[8] == k * hidden * 4
        for system in ("truncate", "drop", "selective"):
            assert rows[(system, example.example_id)][3] == k          # the compressor's slot count
        assert rows[("full", example.example_id)][3] == n and rows[("none", example.example_id)][3] == 0
        # independent decodes (transformers' generate): [BOS, kept tokens, prompt] per system
        bos = [tokenizer.bos_token_id]
        full_ids = hf_greedy(model, bos + context + prompt, 6, tokenizer.eos_token_id)
        assert rows[("full", example.example_id)][5] == extract_answer("span-recall", tokenizer.decode(full_ids), 2)
        fake_ids = hf_greedy(model, bos + context[::4] + prompt, 6, tokenizer.eos_token_id)
        assert compressed[5] == extract_answer("span-recall", tokenizer.decode(fake_ids), 2)
        truncated = hf_greedy(model, bos + context[:k] + prompt, 6, tokenizer.eos_token_id)
        assert rows[("truncate", example.example_id)][5] == extract_answer("span-recall", tokenizer.decode(truncated), 2)


def hf_greedy(model, ids, n, eos):
    """transformers' own greedy search, stopped at eos (not included)."""
    out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                         max_new_tokens=n, do_sample=False, eos_token_id=eos, pad_token_id=eos)[0, len(ids):].tolist()
    return out[:out.index(eos)] if eos in out else out


def test_target_nll_is_teacher_forced_nll_of_target_and_eos(store, lm):
    """target_nll of every system equals -mean log p(target + eos) recomputed by hand from the decoder's
    logits on [what the system kept, prompt, target]; at r = 1 the fake memory is the full context, so the
    compressor's value (through the memory path) equals the full baseline's (through plain input ids)."""
    model, tokenizer = lm
    setup = make_setup(lm)
    setup.compressor = EveryRthToken(model, tokenizer, 1, 40)
    config = EvalConfig(compressor="every-rth-4x", task="span-recall", span_words=3, answer_words=2,
                        max_new_tokens=2)
    summary = run_evaluation(store, config, setup)
    stored = dict(((r[0], r[1]), r[2]) for r in store.con.execute(
        "SELECT system, example_id, target_nll FROM evaluations").fetchall())
    for example in setup.examples:
        context = encode(tokenizer, example.context)[:40]
        prompt = encode(tokenizer, example.prompt)
        target = encode(tokenizer, example.target) + [tokenizer.eos_token_id]
        for system, kept in (("full", context), ("none", [])):
            ids = torch.tensor([[tokenizer.bos_token_id] + kept + prompt + target])
            with torch.no_grad():
                logp = torch.log_softmax(model(input_ids=ids).logits[0].double(), dim=-1)
            start = 1 + len(kept) + len(prompt)
            expected = -float(sum(logp[start - 1 + j, t] for j, t in enumerate(target))) / len(target)
            assert stored[(system, example.example_id)] == pytest.approx(expected, rel=1e-4)
        assert stored[("every-rth-4x", example.example_id)] == pytest.approx(
            stored[("full", example.example_id)], rel=1e-4)
    full = next(s for s in summary.systems if s.system == "full")
    assert full.means["target_nll"] == pytest.approx(
        sum(stored[("full", e.example_id)] for e in setup.examples) / len(setup.examples))


def test_baselines_score_the_compressors_own_truncated_target(store, lm):
    """Reconstruction with a compressor whose max_target_tokens (5) is below the context length: every
    system's target_nll covers the compressor's target (the first 5 context tokens, then eos)."""
    model, tokenizer = lm
    setup = make_setup(lm, task="reconstruction")
    setup.compressor.config.max_target_tokens = 5
    config = EvalConfig(compressor="every-rth-4x", task="reconstruction", max_new_tokens=2)
    run_evaluation(store, config, setup)
    stored = dict(((r[0], r[1]), r[2]) for r in store.con.execute(
        "SELECT system, example_id, target_nll FROM evaluations").fetchall())
    for example in setup.examples:
        context = encode(tokenizer, example.context)[:40]
        prompt = encode(tokenizer, example.prompt)
        target = context[:5] + [tokenizer.eos_token_id]
        ids = torch.tensor([[tokenizer.bos_token_id] + context + prompt + target])
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=ids).logits[0].double(), dim=-1)
        start = 1 + len(context) + len(prompt)
        expected = -float(sum(logp[start - 1 + j, t] for j, t in enumerate(target))) / len(target)
        assert stored[("full", example.example_id)] == pytest.approx(expected, rel=1e-4)


def insert(store, system, example_id, f1, em, prediction="x", reference="x"):
    store.run("evaluation/insert", {
        "eval_id": "e1", "run_id": "r", "system": system, "compressor_id": "c", "method": system,
        "decoder_id": "d", "task": "qa", "example_id": example_id, "doc_id": None, "eval_slice": "s",
        "ratio_target": 4.0, "ratio_actual": 4.0, "n_context_tokens": 8, "n_slots": 2, "memory_bytes": 64,
        "f1": f1, "em": em, "bleu": 0.0, "target_nll": None, "compress_ms": 1.0, "decode_ms": 2.0, "prediction": prediction,
        "reference": reference})


def test_summary_gains_only_where_full_minus_none_is_significant(store, lm):
    """f1: full above none on every example, so the gain is defined: sum(c - none) / sum(full - none) over
    the examples; em: full and none differ on one example of eight (not significant) and bleu is 0
    everywhere, so neither has a gain, and the reason says why."""
    from datacomp.compressors.example import TaskExample

    n = 8
    examples = [TaskExample(f"q{i}", "qa", "ctx", "p", "a") for i in range(n)]
    f1 = {"c": [0.3 + 0.05 * i for i in range(n)], "full": [0.8 + 0.02 * i for i in range(n)],
          "none": [0.1] * n}
    em = {"c": [0.0] * n, "full": [1.0] + [0.0] * (n - 1), "none": [0.0] * n}
    for system in f1:
        for i in range(n):
            insert(store, system, f"q{i}", f1[system][i], em[system][i])
    insert(store, "c", "q-not-in-this-run", 1.0, 1.0)                   # outside the examples: ignored
    setup = EvalSetup(decoder=None, tokenizer=None, decoder_id="d", examples=examples, context_tokens=8,
                      ratio=4.0, eval_slice="s", compressor_id="c")
    summary = summarize(store, "e1", "r", "qa", setup, ["c", "full", "none"], written=0)
    scores = {s.system: s for s in summary.systems}
    assert scores["c"].means["f1"] == pytest.approx(sum(f1["c"]) / n) and scores["c"].n_examples == n
    expected = sum(c - z for c, z in zip(f1["c"], f1["none"])) / sum(f - z for f, z in zip(f1["full"], f1["none"]))
    assert scores["c"].gains["f1"] == pytest.approx(expected)
    low, high = scores["c"].gain_intervals["f1"]
    assert low < expected < high
    assert scores["full"].gains["f1"] == pytest.approx(1.0) and scores["none"].gains["f1"] == pytest.approx(0.0)
    for metric in ("em", "bleu"):
        assert scores["c"].gains[metric] is None
        assert "full - none is not above 0 by a paired CI" in scores["c"].gain_reasons[metric]
    assert "no paired CI" in scores["c"].gain_reasons["corpus_bleu"]
    row = summary.table_rows()[0]
    assert row["system"] == "c" and row["gain_f1"] == pytest.approx(expected) and "bleu" not in row


def test_baselines_only_and_errors(store, lm, tiny_lm_dir):
    setup = make_setup(lm, task="reconstruction", with_compressor=False, context_tokens=16)
    config = EvalConfig(task="reconstruction", baselines=("full", "truncate"), max_new_tokens=4)
    summary = run_evaluation(store, config, setup)
    assert [s.system for s in summary.systems] == ["full", "truncate"]
    assert summary.systems[1].gains["f1"] is None
    assert summary.systems[1].gain_reasons["f1"] == "needs the full and none baselines"
    assert store.con.execute("SELECT count(*) FROM evaluations WHERE compressor_id IS NULL").fetchone()[0] \
        == 2 * len(setup.examples)
    with pytest.raises(DatacompError, match="^baselines 'half' is no baseline; known: 'full', 'none'"):
        EvalConfig(baselines=("half",))  # refused as it is built, before anything is loaded
    with pytest.raises(DatacompError, match="no compressor 'nope' in the store"):
        evaluate(store, EvalConfig(compressor="nope", slice="web"))
    with pytest.raises(ConfigError, match="^decoder is needed: compressor none runs the baselines only") as raised:
        evaluate(store, EvalConfig(compressor="none", slice="web"))
    assert command_line_text(raised.value).startswith("--decoder is needed: --compressor none runs")


def test_evaluate_from_the_store_with_a_corpus_name(store, tiny_lm_dir):
    for i, text in enumerate(TEXTS):
        store.con.execute("INSERT INTO documents (doc_id, corpus, domain, text, n_chars, n_bytes, source) "
                          "VALUES ($id, 'web', 'web', $t, 1, 1, 't')", {"id": f"d{i}", "t": text})
    config = EvalConfig(compressor="none", decoder=str(tiny_lm_dir), slice="web", task="reconstruction",
                        context_tokens=16, ratio=4, limit=2, max_new_tokens=4)
    summary = evaluate(store, config)
    assert summary.n_examples == 2 and summary.n_rows_written == 10
    budgets = store.con.execute("SELECT DISTINCT n_slots FROM evaluations WHERE system = 'truncate'").fetchall()
    assert budgets == [(4,)]                                             # ceil(16 / 4)
    bigger = evaluate(store, EvalConfig(**{**config.__dict__, "limit": 3}))
    assert bigger.eval_id == summary.eval_id and bigger.n_rows_written == 5   # only the new example


def test_results_query_counts_every_non_compressor_system_as_a_baseline(store):
    """selective and the @tuned baselines are baselines in `store results` (system = its own name, no
    ratio for full / none), the compressor's rows are the compressor's; none counted twice."""
    store.run("compressors/upsert", {"compressor_id": "c", "method": "comi", "ratio": 4.0, "encoder_id": "e",
                                     "decoder_id": "d", "train_slice": "s", "checkpoint": "/x", "config": "{}",
                                     "train_info": '{"seconds": 3.0, "steps": 5}', "run_id": "r",
                                     "decoder_tuned": True})
    for system in ("c", "full", "none", "selective", "full@tuned", "none@tuned", "truncate@tuned"):
        for i in range(2):
            insert(store, system, f"q{i}", 0.5, 0.0)
    rows = {r["system"]: r for r in store.rows("evaluation/results", {"task": "qa"})}
    assert set(rows) == {"c", "full", "none", "selective", "full@tuned (c)", "none@tuned (c)", "truncate@tuned (c)"}
    assert rows["c"]["method"] == "comi" and rows["c"]["train_steps"] == 5
    assert rows["selective"]["method"] == "selective" and rows["selective"]["train_steps"] is None
    assert rows["full@tuned (c)"]["ratio_target"] is None and rows["truncate@tuned (c)"]["ratio_target"] == 4.0
    assert all(r["n"] == 2 for r in rows.values())
