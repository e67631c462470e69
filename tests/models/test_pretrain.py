"""Pretraining a tiny Llama on the two-domain fixture: learning, evaluation, saving, determinism, sharing."""

import json

import numpy as np
import pytest
import torch

from datacomp.errors import DatacompError
from datacomp.models.architecture import PRESETS
from datacomp.models.loading import load_causal_lm
from datacomp.models.pretrain import PretrainConfig, pretrain
from datacomp.models.pretrain_loop import learning_rate
from datacomp.models.registry import list_models

TINY = dict(shape=PRESETS["tiny"], steps=40, batch_size=16, learning_rate=1e-2, threads=1, dtype="fp32")


@pytest.fixture(scope="module")
def trained(corpus_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "tiny-a"
    config = PretrainConfig(name="tiny-a", mixture="literature=0.5,code=0.5", out=str(out), **TINY)
    return pretrain(corpus_store, config)


def test_loss_falls_and_beats_the_unigram_baseline(trained):
    info = trained.train_info
    losses = [point[1] for point in info["loss_curve"]]
    assert info["steps"] == 40 and len(losses) == 40
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) - 1.0
    assert info["tokens_seen"] == 40 * 16 * 64
    assert set(info["validation"]) == {"literature", "code"}
    for domain, result in info["validation"].items():
        assert result["tokens"] > 100, domain
        assert result["perplexity"] < result["unigram_perplexity"] / 2, domain
        assert result["ratio_to_unigram"] == pytest.approx(result["unigram_perplexity"] / result["perplexity"])
    shares = info["tokens_seen_per_domain"]
    assert sum(shares.values()) == info["tokens_seen"]


def test_registered_with_mixture_and_run(trained, corpus_store):
    [record] = [m for m in list_models(corpus_store) if m.model_id == trained.model_id]
    assert record.source == "pretrain"
    assert record.mixture == {"literature": 0.5, "code": 0.5}
    assert record.n_params == sum(p.numel() for p in load_causal_lm(record.path)[0].parameters())
    assert record.context_len == 64 and record.vocab_size == 300
    run = corpus_store.con.execute("SELECT status, counts, timings FROM runs WHERE run_id = $r",
                                   {"r": record.train_info["run_id"]}).fetchone()
    assert run[0] == "finished"
    assert json.loads(run[1])["steps"] == 40
    assert {"tokenizer", "train", "evaluate", "save"} <= set(json.loads(run[2]))


def test_saved_model_reloads_with_identical_logits(trained):
    from transformers import LlamaForCausalLM

    first, tokenizer = load_causal_lm(trained.path)
    second = LlamaForCausalLM.from_pretrained(trained.path)
    ids = torch.tensor([tokenizer.encode("def total(items):\n    return 0", add_special_tokens=False)])
    with torch.no_grad():
        assert torch.equal(first(input_ids=ids).logits, second.eval()(input_ids=ids).logits)
    assert tokenizer.decode(ids[0]) == "def total(items):\n    return 0"


def test_same_seed_same_weights_other_seed_other_weights(trained, corpus_store, tmp_path):
    again = pretrain(corpus_store, PretrainConfig(name="tiny-a", mixture="literature=0.5,code=0.5",
                                                  out=str(tmp_path / "again"), **TINY))
    assert again.revision == trained.revision
    assert again.model_id == trained.model_id
    other = pretrain(corpus_store, PretrainConfig(name="tiny-a", mixture="literature=0.5,code=0.5", seed=1,
                                                  out=str(tmp_path / "other"), **TINY))
    assert other.revision != trained.revision


def test_family_shares_a_tokenizer_and_other_vocabularies_differ(trained, corpus_store, tmp_path):
    shared = pretrain(corpus_store, PretrainConfig(
        name="tiny-code", mixture="code=1", tokenizer=trained.path, out=str(tmp_path / "code"),
        **{**TINY, "steps": 5}))
    assert shared.tokenizer_id == trained.tokenizer_id
    assert shared.train_info["tokens_seen_per_domain"] == {"code": 5 * 16 * 64}
    assert shared.train_info["validation"]["literature"]["in_mixture"] is False
    own = pretrain(corpus_store, PretrainConfig(
        name="tiny-own", mixture="code=1", out=str(tmp_path / "own"), **{**TINY, "steps": 5}))
    assert own.tokenizer_id != trained.tokenizer_id


def test_unknown_mixture_domain_is_named(corpus_store):
    with pytest.raises(DatacompError, match="mixture domain 'poetry' has no documents in the store"):
        pretrain(corpus_store, PretrainConfig(name="x", mixture="literature=0.5,poetry=0.5", **TINY))


def test_warmup_then_cosine_to_the_floor():
    config = PretrainConfig(name="x", mixture="a=1", learning_rate=1.0, warmup_steps=10, min_lr_ratio=0.1)
    assert learning_rate(0, 100, config) == pytest.approx(0.1)
    assert learning_rate(9, 100, config) == pytest.approx(1.0)
    assert learning_rate(55, 100, config) == pytest.approx(0.55)
    assert learning_rate(100, 100, config) == pytest.approx(0.1)


def test_a_time_budget_stops_training_once_used(corpus_store, tmp_path):
    config = PretrainConfig(name="timed", mixture="code=1", out=str(tmp_path / "timed"),
                            **{**TINY, "steps": None, "minutes": 0.01, "warmup_steps": 2})
    info = pretrain(corpus_store, config).train_info
    assert info["seconds"] >= 0.6
    assert info["steps"] >= 1 and len(info["loss_curve"]) == info["steps"]


def test_time_schedule_warms_up_by_step_then_decays_by_time():
    config = PretrainConfig(name="x", mixture="a=1", learning_rate=1.0, warmup_steps=10, min_lr_ratio=0.1)
    assert learning_rate(4, None, config) == pytest.approx(0.5)
    assert learning_rate(20, None, config, progress=0.0) == pytest.approx(1.0)
    assert learning_rate(20, None, config, progress=0.5) == pytest.approx(0.55)
    assert learning_rate(20, None, config, progress=1.7) == pytest.approx(0.1)


def test_a_domain_without_validation_documents_is_reported_empty(store, add_docs, tmp_path):
    from datacomp.models.pretrain_data import is_validation
    import hashlib

    texts = [f"def f{i}(x):\n    return x + {i}\n" for i in range(60)]
    add_docs(store, "code", texts)
    trained_only = [t for t in (f"word{i} " * 20 for i in range(40))
                    if not is_validation(hashlib.sha256(t.encode()).hexdigest(), 0.1)]
    add_docs(store, "prose", trained_only)
    record = pretrain(store, PretrainConfig(name="v", mixture="code=1", out=str(tmp_path / "v"),
                                            **{**TINY, "steps": 3}))
    assert record.train_info["validation"]["prose"] == {
        "perplexity": None, "unigram_perplexity": None, "ratio_to_unigram": None, "tokens": 0,
        "in_mixture": False}
    assert record.train_info["validation"]["code"]["tokens"] > 0


def test_pretraining_records_the_copy_test_per_validation_domain(trained, corpus_store):
    """The restated-segment test of every validation domain: in train_info and in the copy_tests table."""
    from datacomp.models.copy_test import copy_test_rows

    rows = {r["domain"]: r for r in copy_test_rows(corpus_store) if r["model_id"] == trained.model_id}
    assert set(rows) == set(trained.train_info["validation"]) == {"literature", "code"}
    for domain, result in trained.train_info["validation"].items():
        assert result["copy_first_nll"] == pytest.approx(rows[domain]["first_nll"])
        assert result["copy_repeat_nll"] == pytest.approx(rows[domain]["restated_nll"])
        assert rows[domain]["segment_tokens"] == 32  # the tiny preset's window is 64 tokens
        assert rows[domain]["reads_context"] is False  # 40 steps teach no copying


def test_init_from_continues_a_registered_model_with_its_tokenizer_and_shape(trained, corpus_store, tmp_path):
    """Continued pretraining starts from the base's weights (its first loss is the base's loss, far below a
    fresh model's), keeps its tokenizer and shape, and records where it came from."""
    config = PretrainConfig(name="tiny-code", mixture="code=1", out=str(tmp_path / "tiny-code"), init_from=trained.model_id,
                            **{**TINY, "steps": 5, "shape": PRESETS["default"]})  # shape is ignored
    record = pretrain(corpus_store, config)
    info = record.train_info
    assert info["init_from"] == trained.model_id and trained.train_info["init_from"] is None
    assert record.tokenizer_id == trained.tokenizer_id
    assert info["shape"] == trained.train_info["shape"]
    base_first, fresh_first = trained.train_info["loss_curve"][0][1], info["loss_curve"][0][1]
    assert fresh_first < base_first - 2.0  # the base started from random weights (~log vocab)
    base_model, _ = load_causal_lm(trained.path)
    continued, _ = load_causal_lm(record.path)
    assert not torch.equal(base_model.model.layers[0].self_attn.q_proj.weight,
                           continued.model.layers[0].self_attn.q_proj.weight)
    with pytest.raises(DatacompError, match="^tokenizer and init_from exclude each other"):
        PretrainConfig(name="x", mixture="code=1", init_from="tiny-a", tokenizer=str(tmp_path))


def test_a_cached_recipe_is_pretrained_once_and_reused_in_another_store(corpus_store, tmp_path, monkeypatch):
    """reuse_cached: the second run of the same recipe on the same texts (here in a fresh store) trains
    nothing and registers the same weights with the same copy tests; another seed is another recipe."""
    from datacomp.models.copy_test import copy_test_rows
    from datacomp.store import open_store
    from tests.models.conftest import add_two_domains

    monkeypatch.setenv("DATACOMP_CACHE", str(tmp_path / "cache"))
    config = PretrainConfig(name="base", mixture="code=1", out=str(tmp_path / "first"), reuse_cached=True,
                            **{**TINY, "steps": 3})
    first = pretrain(corpus_store, config)
    assert (tmp_path / "cache" / "pretrained").is_dir()
    with open_store(tmp_path / "other.duckdb") as other:
        add_two_domains(other)   # the same fixture texts
        again = pretrain(other, PretrainConfig(**{**config.__dict__, "out": str(tmp_path / "second"), "threads": 2}))
        assert again.model_id == first.model_id  # same weights: the model id hashes them
        assert again.train_info["reused_from"].startswith(str(tmp_path / "cache" / "pretrained" / "base-"))
        assert again.train_info["loss_curve"] == first.train_info["loss_curve"]
        runs = other.con.execute("SELECT counts FROM runs WHERE stage = 'pretrain'").fetchall()
        assert '"reused_cached": 1' in runs[0][0]
        tests = [(r["domain"], r["first_nll"]) for r in copy_test_rows(other) if r["model_id"] == again.model_id]
        assert tests == [(r["domain"], r["first_nll"]) for r in copy_test_rows(corpus_store)
                         if r["model_id"] == first.model_id]
        other_seed = pretrain(other, PretrainConfig(**{**config.__dict__, "out": str(tmp_path / "third"), "seed": 7}))
        assert "reused_from" not in other_seed.train_info and other_seed.model_id != first.model_id


def test_copy_test_every_records_the_curve_of_the_restated_segment_test(corpus_store, tmp_path):
    record = pretrain(corpus_store, PretrainConfig(name="curve", mixture="code=1", out=str(tmp_path / "curve"),
                                                   copy_test_every=2, **{**TINY, "steps": 5}))
    curve = record.train_info["copy_curve"]
    assert [point[0] for point in curve] == [2, 4]
    assert all(first > 0 and restated > 0 for _, first, restated in curve)
    assert curve[0] != curve[1]   # measured on the model as it trains


def test_a_held_out_slice_is_never_trained_on(corpus_store, tmp_path):
    """Every document of --held-out-slice is a validation document (the run's counts), whatever its hash."""
    from datacomp.curation.slices import create_slice
    from datacomp.models.pretrain_data import is_validation

    create_slice(corpus_store, "evalset", "domain", {"domains": ["code"]}, replace=True)
    code_ids = [r["doc_id"] for r in corpus_store.rows("curation/slice_members", {"name": "evalset"})]
    assert len(code_ids) > 100 and sum(is_validation(d, 0.1) for d in code_ids) < 30
    record = pretrain(corpus_store, PretrainConfig(name="held", mixture="literature=1",
                                                   out=str(tmp_path / "held"), held_out_slice="evalset",
                                                   **{**TINY, "steps": 2}))
    counts = json.loads(corpus_store.con.execute(
        "SELECT counts FROM runs WHERE run_id = ?", [record.train_info["run_id"]]).fetchone()[0])
    assert counts["validation_docs.code"] == len(code_ids) and counts.get("train_docs.code", 0) == 0
    assert counts["held_out_slice_docs"] == len(code_ids) and counts["train_docs.literature"] > 90
    with pytest.raises(DatacompError, match="mixture domain 'code' has no training tokens"):
        pretrain(corpus_store, PretrainConfig(name="y", mixture="literature=0.5,code=0.5", held_out_slice="evalset",
                                              out=str(tmp_path / "y"), **{**TINY, "steps": 1}))
    with pytest.raises(DatacompError, match=r"--held-out-slice 'nosuch': no such slice \(known: evalset\)"):
        pretrain(corpus_store, PretrainConfig(name="x", mixture="code=1", held_out_slice="nosuch",
                                              out=str(tmp_path / "x"), **{**TINY, "steps": 1}))


def test_pretrain_writes_only_into_a_model_folder_of_its_own(trained, store, add_docs, tmp_path):
    """A folder of the user's given as out is refused before training (no run), and kept; the model folder
    pretrain wrote is signed, and one this store registered as pretrained before markers existed is its own."""
    import shutil
    from pathlib import Path

    from datacomp.models.registry import register_model
    from datacomp.ownership import MARKER, folder_command

    assert folder_command(trained.path) == "pretrain"
    add_docs(store, "code", [f"def f{i}(x):\n    return x + {i}\n" for i in range(60)])
    mine = tmp_path / "mine"
    shutil.copytree(trained.path, mine)
    (mine / MARKER).unlink()
    weights = {p.name: p.read_bytes() for p in mine.iterdir()}
    quick = {**TINY, "steps": 2}
    with pytest.raises(DatacompError, match=f"^{mine} exists and was not written by datacomp pretrain"):
        pretrain(store, PretrainConfig(name="mine", mixture="code=1", out=str(mine), **quick))
    assert {p.name: p.read_bytes() for p in mine.iterdir()} == weights
    assert store.con.execute("SELECT count(*) FROM runs WHERE stage = 'pretrain'").fetchone()[0] == 0
    register_model(store, mine, "older", source="pretrain")   # pretrained here before markers existed
    record = pretrain(store, PretrainConfig(name="again", mixture="code=1", out=str(mine), **quick))
    assert Path(record.path) == mine.resolve() and folder_command(mine) == "pretrain"
    assert (mine / "model.safetensors").read_bytes() != weights["model.safetensors"]
