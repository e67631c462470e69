"""Training-free systems through the harness: KV presses keep ceil(n / r) KV slots and say so, batched ==
one by one; LLMLingua starts offline and keeps about its budget of decoder tokens; LLMLingua-2 runs on a
tiny random token classifier from a local folder; `datacomp evaluate --compressor none --baselines ...`
compares them alone."""

import math
import os
import re
import socket

import pytest

from datacomp.compressors.tasks import TaskDataConfig, document_examples
from datacomp.errors import DatacompError
from datacomp.evaluation.runner import EvalConfig, EvalSetup, run_evaluation
from datacomp.models.tokenizer import tokenize_text

PRESS_NAMES = ("streamingllm", "knorm", "snapkv", "tova")
TEXTS = [
    "Alice walked to the market on Monday and bought seven green apples for her aunt who lives nearby.",
    "Bob stayed home reading a long novel about sailors crossing the cold northern sea in winter storms.",
    "Later that evening they met at the station and talked about the strange weather of the last week.",
]


def need_llmlingua():
    """The package is the optional extra datacomp[peers]; CI installs it with the test extra, so there a
    missing package fails rather than skips."""
    if not os.environ.get("CI"):
        pytest.importorskip("llmlingua", reason="llmlingua is an optional extra: pip install 'datacomp[peers]'")


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    """A tiny Llama with a 256-token window (LLMLingua reads a whole context in one forward)."""
    from tests.conftest import build_tiny_lm
    from datacomp.models.loading import load_causal_lm

    folder = tmp_path_factory.mktemp("tiny_256")
    build_tiny_lm(folder, context=256)
    model, tokenizer = load_causal_lm(folder)
    return model.requires_grad_(False), tokenizer, folder


def make_setup(lm, **models):
    model, tokenizer, _ = lm
    config = TaskDataConfig(task="span-recall", context_tokens=40, min_context_tokens=8, span_words=3,
                            answer_words=2)
    data = document_examples([(f"doc{i}", text) for i, text in enumerate(TEXTS)], tokenizer, config)
    return EvalSetup(decoder=model, tokenizer=tokenizer, decoder_id="tiny", examples=data.examples,
                     context_tokens=40, ratio=4.0, eval_slice="web", skipped=data.skipped, **models)


def rows_of(store, systems):
    return store.con.execute(
        "SELECT system, example_id, n_context_tokens, n_slots, memory_bytes, compress_ms, prediction, target_nll "
        "FROM evaluations WHERE system IN (SELECT unnest($s)) ORDER BY system, example_id",
        {"s": list(systems)}).fetchall()


def test_presses_keep_the_ratio_budget_in_kv_slots_and_batched_equals_one_by_one(store, lm, tmp_path):
    from datacomp.store import open_store

    model = lm[0]
    config = EvalConfig(task="span-recall", baselines=("full", "none", "truncate", *PRESS_NAMES), max_new_tokens=4,
                        batch_size=3)
    summary = run_evaluation(store, config, make_setup(lm))
    rows = rows_of(store, PRESS_NAMES)
    assert len(rows) == len(PRESS_NAMES) * summary.n_examples
    slot_bytes = (model.config.num_hidden_layers * 2 * model.config.num_key_value_heads
                  * (model.config.hidden_size // model.config.num_attention_heads) * 4)      # fp32 K and V
    for system, _, n_context, n_slots, memory, compress_ms, _, nll in rows:
        assert n_slots == math.ceil(n_context / 4) and memory == n_slots * slot_bytes
        assert compress_ms > 0 and nll is not None
    units = {s.system: s.budget_unit for s in summary.systems}
    assert units == {"full": "tokens", "none": "tokens", "truncate": "tokens", **{p: "kv_slots" for p in PRESS_NAMES}}
    assert {(c["a"], c["b"]) for c in summary.paired} >= {(p, "truncate") for p in PRESS_NAMES}
    with open_store(tmp_path / "one_by_one.duckdb") as alone:
        run_evaluation(alone, EvalConfig(**{**config.__dict__, "batch_size": 1}), make_setup(lm))
        for batched, single in zip(rows, rows_of(alone, PRESS_NAMES)):
            assert batched[:5] + batched[6:7] == single[:5] + single[6:7]
            assert batched[7] == pytest.approx(single[7], abs=1e-5)


def test_a_pipeline_names_training_free_systems_and_its_file_names_a_wrong_one(tmp_path):
    from datacomp.pipeline import load_pipeline

    path = tmp_path / "p.toml"
    stage = '[[stage]]\nname = "e"\ntype = "evaluate"\ncompressor = "none"\ndecoder = "m"\n'
    path.write_text(stage + 'baselines = ["full", "none", "snapkv", "llmlingua"]\n')
    load_pipeline(path)                                                              # accepted by name
    path.write_text(stage + 'baselines = ["full", "snap"]\n')
    with pytest.raises(DatacompError, match=rf"^{re.escape(str(path))}:6: stage 'e': baselines 'snap' is "
                                            r"no baseline; known: .*'snapkv'"):
        load_pipeline(path)
    path.write_text(stage + 'baselines = ["llmlingua2"]\n')
    with pytest.raises(DatacompError, match="baselines llmlingua2 needs llmlingua2_model FOLDER"):
        load_pipeline(path)


def test_unknown_system_and_missing_llmlingua2_folder_are_errors(store, lm, tmp_path):
    from datacomp.evaluation.training_free import prompt_compressor_models

    with pytest.raises(DatacompError, match="^baselines 'snap' is no baseline; known: .*'snapkv'"):
        run_evaluation(store, EvalConfig(baselines=("snap",)), make_setup(lm))
    from datacomp.errors import ConfigError, command_line_text

    with pytest.raises(ConfigError) as missing:   # where the config is built, before any model
        EvalConfig(baselines=("llmlingua2",))
    assert command_line_text(missing.value).startswith("--baselines llmlingua2 needs --llmlingua2-model FOLDER")
    with pytest.raises(DatacompError, match=f"^llmlingua2_model {tmp_path}: no config.json there"):
        prompt_compressor_models(store, EvalConfig(baselines=("llmlingua2",), llmlingua2_model=str(tmp_path)))


@pytest.fixture
def offline(monkeypatch):
    """No network: sockets refuse to connect and tiktoken's model lookup (what llmlingua 0.2.2's own
    constructor calls, downloading a GPT tokenizer file) raises."""
    import tiktoken

    def refuse(*_args, **_kwargs):
        raise OSError("no network in this test")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(tiktoken, "encoding_for_model", refuse)


def test_llmlingua_starts_offline_and_keeps_about_the_budget_in_decoder_tokens(lm, offline):
    need_llmlingua()
    from datacomp.compressors.llmlingua import LLMLingua

    model, tokenizer, _ = lm
    text = TEXTS[0] + " " + TEXTS[1]
    n = len(tokenize_text(tokenizer, text))
    for ratio in (2, 4):
        budget = math.ceil(n / ratio)
        kept = len(tokenize_text(tokenizer, LLMLingua(model, tokenizer, tokenizer).compress(text, budget)))
        assert abs(kept - budget) <= max(3, budget // 5), (n, budget, kept)


def build_tiny_token_classifier(folder):
    """A random 1-layer BERT token classifier (2 labels: drop / keep) with a WordPiece tokenizer trained on
    the test texts: the shape of LLMLingua-2's released models, at toy size."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertForTokenClassification, BertTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.BertNormalizer(lowercase=False)
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    wordpiece.train_from_iterator(TEXTS * 5, trainers.WordPieceTrainer(vocab_size=200, special_tokens=specials,
                                                                       show_progress=False))
    tokenizer = BertTokenizerFast(tokenizer_object=wordpiece, unk_token="[UNK]", cls_token="[CLS]",
                                  sep_token="[SEP]", pad_token="[PAD]", mask_token="[MASK]", do_lower_case=False)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512, num_labels=2)
    torch.manual_seed(0)
    BertForTokenClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_llmlingua2_keeps_whole_words_from_a_local_token_classifier(lm, offline, tmp_path):
    need_llmlingua()
    from datacomp.compressors.llmlingua2 import LLMLingua2

    _, tokenizer, _ = lm
    folder = build_tiny_token_classifier(tmp_path / "clf")
    text = TEXTS[2]
    n = len(tokenize_text(tokenizer, text))
    kept_text = LLMLingua2(str(folder), tokenizer).compress(text, math.ceil(n / 2))
    words, original = re.findall(r"\w+|[^\w\s]", kept_text), re.findall(r"\w+|[^\w\s]", text)
    remaining = iter(original)
    assert 0 < len(words) < len(original) and all(word in remaining for word in words), kept_text  # a subsequence
    assert len(tokenize_text(tokenizer, kept_text)) <= math.ceil(n / 2) + 5


def test_prompt_compressors_through_the_harness_keep_tokens(store, lm, offline, tmp_path):
    need_llmlingua()
    folder = build_tiny_token_classifier(tmp_path / "clf")
    config = EvalConfig(task="span-recall", baselines=("full", "none", "llmlingua", "llmlingua2"),
                        max_new_tokens=4, llmlingua2_model=str(folder))
    summary = run_evaluation(store, config, make_setup(lm, llmlingua2_model=str(folder)))
    units = {s.system: s.budget_unit for s in summary.systems}
    assert units["llmlingua"] == units["llmlingua2"] == "tokens"
    model = lm[0]
    for system, _, n_context, n_slots, memory, compress_ms, _, _ in rows_of(store, ("llmlingua", "llmlingua2")):
        budget = math.ceil(n_context / 4)
        assert 0 < n_slots <= budget + 5 and compress_ms > 0, (system, n_context, n_slots)
        assert memory == n_slots * model.config.hidden_size * 4                         # kept token embeddings


def test_evaluate_cli_compares_training_free_systems_alone(capsys, store, lm):
    need_llmlingua()
    import json

    from cli_capture import cli_output

    for i, text in enumerate(TEXTS):
        store.con.execute("INSERT INTO documents (doc_id, corpus, domain, text, n_chars, n_bytes, source) "
                          "VALUES ($id, 'web', 'web', $t, 1, 1, 't')", {"id": f"d{i}", "t": text})
    db = str(store.path)
    store.close()
    out = cli_output(capsys, "evaluate", "--compressor", "none", "--baselines", "full,none,llmlingua,snapkv",
                     "--decoder", str(lm[2]), "--slice", "web", "--task", "reconstruction", "--context-tokens", "32",
                     "--max-new-tokens", "4", "--limit", "2", "--json", "--db", db)
    summary = json.loads(out)
    assert [(s["system"], s["budget_unit"], s["n_examples"]) for s in summary["systems"]] == \
        [("full", "tokens", 2), ("none", "tokens", 2), ("llmlingua", "tokens", 2), ("snapkv", "kv_slots", 2)]
    assert all(s["compress_ms"] > 0 for s in summary["systems"][2:])
