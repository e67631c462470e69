"""Every registered method builds, trains a step, and round-trips through save/load unchanged."""

from __future__ import annotations

import json

import pytest
import torch

from datacomp.compressors.example import TaskExample
from datacomp.compressors.registry import REGISTRY, build_compressor, load_compressor, save_compressor
from datacomp.errors import DatacompError

EXAMPLE = TaskExample("q1", "qa", "The quick brown fox jumps over the lazy dog. Paris is the capital of France.",
                      "\nWhere is Paris?\n", "France", answers=("France",))


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_save_load_round_trip(method, tiny_lm_pair, tmp_path):
    encoder, decoder = tiny_lm_pair
    if method == "sac":
        encoder = decoder  # SAC's compressor is a copy of the decoder LM
    compressor = build_compressor(method, encoder, decoder, {"ratio": 4, "max_context_tokens": 40})
    optimizer = torch.optim.SGD([p for p in compressor.parameters() if p.requires_grad], lr=0.5)
    compressor.training_loss(compressor.encode([EXAMPLE])).backward()
    optimizer.step()   # move every trainable parameter away from its initial value
    compressor.eval()
    save_compressor(compressor, tmp_path / "saved")
    assert json.loads((tmp_path / "saved" / "compressor.json").read_text())["method"] == method
    loaded = load_compressor(tmp_path / "saved")
    assert type(loaded) is type(compressor) and loaded.config == compressor.config
    batch = compressor.encode([EXAMPLE])
    with torch.no_grad():
        before = compressor.compress(batch)
        after = loaded.compress(batch)
        fresh = build_compressor(method, encoder, decoder, compressor.config).compress(batch)
    assert after.n_context_tokens == before.n_context_tokens == [len(batch[0].context_ids)]
    assert torch.equal(after.positions[0], before.positions[0])
    tensors = lambda m: [m.embeddings[0]] if m.embeddings is not None else [  # noqa: E731
        t for kv in m.cache[0] for t in kv]
    for a, b in zip(tensors(before), tensors(after)):
        assert torch.equal(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(tensors(before), tensors(fresh))), "training changed nothing"
    assert before.nbytes(0) == after.nbytes(0) > 0
    with torch.no_grad():
        assert loaded.predict(batch, 4)[0].token_ids == compressor.predict(batch, 4)[0].token_ids


def test_registry_errors(tiny_lm_dir, tmp_path):
    with pytest.raises(DatacompError, match="unknown compressor method 'icae'"):
        build_compressor("icae", tiny_lm_dir, tiny_lm_dir)
    with pytest.raises(DatacompError, match="unknown comi config key 'alfa'"):
        build_compressor("comi", tiny_lm_dir, tiny_lm_dir, {"alfa": 1.0})
    with pytest.raises(DatacompError, match="compressor.json is missing"):
        load_compressor(tmp_path)
    (tmp_path / "compressor.json").write_text('{"method": "sac",\n "config": }')
    with pytest.raises(DatacompError, match=r"compressor.json: invalid JSON: Expecting value at line 2, column 12$"):
        load_compressor(tmp_path)


def test_set_values_are_typed_by_annotation_and_train_option_keys_are_refused():
    from typing import Optional

    from datacomp.compressors.registry import _typed_value, parse_method_config

    assert parse_method_config("autoencoder", ["decoder_lora=yes", "lora_rank=16", "encoder_training=full"]) == \
        {"decoder_lora": True, "lora_rank": 16, "encoder_training": "full"}
    assert _typed_value("k", "none", Optional[int]) is None and _typed_value("k", "7", int | None) == 7
    assert _typed_value("k", "0.5", float) == 0.5  # a float field takes a fraction whatever its default
    with pytest.raises(DatacompError, match=r"--method-config k='x': expected int or none"):
        _typed_value("k", "x", Optional[int])
    for key, option in (("ratio", "--ratio"), ("max_context_tokens", "--context-tokens"), ("seed", "--seed")):
        with pytest.raises(DatacompError, match=f"--method-config {key}: set it with {option}"):
            parse_method_config("sac", [f"{key}=3"])
