"""Register a trained compressor's encoder as a plain causal LM (``datacomp models add --from-compressor``).

The paper's frozen-decoder setting trains only the encoder, so "encoder-measured entropy" can mean the
entropy under the *trained* encoder. This module loads a saved compressor, takes its encoder LM, merges
every LoRA adapter into the base weights (peft ``merge()``, then each wrapper is replaced by its
``base_layer``), saves the result as an ordinary transformers model folder (safetensors + tokenizer) in
``<store folder>/models/<name>`` and registers it like any folder (``registry.register_model``), so
``datacomp score --encoder <name>`` reads it.

Which LM is the encoder, per method:

- ``autoencoder``: ``compressor.encoder``, a full causal LM (LoRA, or every weight trained with
  ``encoder_training=full``, then there is nothing to merge). Its ``lm_head`` is the base model's: the
  autoencoder trains the hidden states at the memory slots, never the token predictions, so the head is
  the pretrained one reading trained hidden states.
- ``sac``: ``compressor.compressor``, a full causal LM with LoRA. SAC trained it with anchor embeddings
  added at the anchor positions, a mode token in front and chunk-wise (optionally bidirectional)
  attention; as a plain causal LM without those it is the LoRA-merged weights only, run left to right.
- ``comi`` / ``meanpool``: refused (``Compressor.encoder_refusal`` says why). Their encoder is the base LM's
  first m layers (no final layers, no trained head): it is not a language model, so it has no next-token
  distribution to score with.

The registered model's ``source`` is ``compressor`` and its ``train_info`` records the compressor id,
method, ratio, base encoder/decoder ids, checkpoint and a hash of the compressor's trained parameters.
Re-running with the same compressor (unchanged trained parameters and base encoder) returns the recorded
model without reloading anything; otherwise the merge is redone, and since the merge is deterministic
the saved weights, and so the model id, come out the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datacomp.compressors.registry import method_class
from datacomp.errors import DatacompError
from datacomp.hashing import file_sha256
from datacomp.models.registry import ModelRecord, register_model
from datacomp.ownership import mark_folder
from datacomp.store import Store

MARKER_FILE = "datacomp_from_compressor.json"
SOURCE = "compressor"


def default_name(compressor_id: str) -> str:
    return f"{compressor_id}-encoder"


def export_compressor_encoder(store: Store, compressor_id: str, name: str | None = None) -> ModelRecord:
    """Merge compressor ``compressor_id``'s encoder LoRA into its base weights, save the LM (safetensors +
    tokenizer) to ``<store folder>/models/<name>`` and register it; ``name`` defaults to
    ``<compressor_id>-encoder``. Idempotent: the same compressor gives the same model id.

    SAC's encoder was trained with anchor embeddings added and chunk-wise (bidirectional) attention; the
    exported model is only its LoRA-merged weights as a plain causal LM, without either."""
    row = _compressor_row(store, compressor_id)
    method = row["method"]
    refusal = method_class(method).encoder_refusal   # the method's class says whether its encoder is an LM
    if refusal is not None:
        raise DatacompError(f"--from-compressor {compressor_id}: cannot register a {method} encoder as a model: "
                            f"{refusal}")
    name = name or default_name(compressor_id)
    if not name.strip() or "/" in name or "\\" in name or name in (".", ".."):
        raise DatacompError(f"--model-name {name!r}: a model name must be a non-empty folder name (no slashes)")
    checkpoint = Path(row["checkpoint"])
    weights = checkpoint / "trainable.safetensors"
    if not weights.is_file():
        raise DatacompError(f"--from-compressor {compressor_id}: its checkpoint {checkpoint} has no "
                            "trainable.safetensors (moved or deleted?)")
    train_info = {"from_compressor": compressor_id, "method": method, "ratio": row.get("ratio"),
                  "base_encoder_id": row["encoder_id"], "decoder_id": row["decoder_id"],
                  "train_slice": row.get("train_slice"), "checkpoint": str(checkpoint),
                  "compressor_weights_sha256": file_sha256(weights)}
    folder = Path(store.path).resolve().parent / "models" / name

    existing = _registered(store, name)
    if existing is not None:
        info = existing.train_info or {}
        if existing.source != SOURCE or info.get("from_compressor") != compressor_id:
            raise DatacompError(f"--model-name {name}: a model of that name is already registered "
                                f"({existing.model_id}, not exported from {compressor_id}); choose another --name")
        if (Path(existing.path).is_dir() and info.get("compressor_weights_sha256") == train_info[
                "compressor_weights_sha256"] and info.get("base_encoder_id") == row["encoder_id"]):
            return existing
    _check_folder(folder, compressor_id)

    base = _registered(store, row["encoder_id"])
    from datacomp.compressors.registry import load_compressor

    compressor = load_compressor(checkpoint)
    encoder = compressor.trained_encoder_lm()
    train_info["lora_layers_merged"] = merge_lora(encoder)
    encoder.eval()
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.safetensors"):
        stale.unlink()
    _save(encoder, compressor.tokenizer, folder)
    (folder / MARKER_FILE).write_text(json.dumps({"from_compressor": compressor_id, "method": method}) + "\n")
    mark_folder(folder, "models add")   # the shared marker: pretrain, train and export refuse this folder
    return register_model(store, folder, name, source=SOURCE, mixture=base.mixture if base else None,
                          train_info=train_info)


def merge_lora(model) -> int:
    """Merge every peft LoRA layer of ``model`` into its base layer in place (adapters on, as the trained
    compressor runs them) and put the plain base layer back in the wrapper's place; returns how many
    layers were merged (0 for a fully trained encoder)."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    wrappers = [(name, module) for name, module in model.named_modules() if isinstance(module, BaseTunerLayer)]
    for name, layer in wrappers:
        layer.enable_adapters(True)
        layer.merge(safe_merge=True)
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, layer.get_base_layer())
    left = [name for name, module in model.named_modules() if isinstance(module, BaseTunerLayer)]
    if left or any("lora_" in name for name, _ in model.named_parameters()):
        raise DatacompError(f"LoRA layers left after merging: {', '.join(left[:3]) or 'lora_ parameters'}")
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return len(wrappers)


def _compressor_row(store: Store, compressor_id: str) -> dict[str, Any]:
    rows = store.rows("compressors/get", {"compressor_id": compressor_id})
    if not rows:
        known = [r["compressor_id"] for r in store.rows("compressors/list")]
        raise DatacompError(f"--from-compressor {compressor_id}: no such compressor in the store (known: "
                            f"{', '.join(known) or 'none'}; train one with `datacomp train`)")
    return rows[0]


def _registered(store: Store, ref: str) -> ModelRecord | None:
    rows = store.rows("models/find", {"ref": ref})
    return ModelRecord.from_row(rows[0]) if rows else None


def _check_folder(folder: Path, compressor_id: str) -> None:
    """Never overwrite a folder this export did not write (a pretrained model of the same name, say)."""
    if not folder.exists() or not any(folder.iterdir()):
        return
    marker = folder / MARKER_FILE
    try:
        owner = json.loads(marker.read_text()).get("from_compressor") if marker.is_file() else None
    except json.JSONDecodeError:
        owner = None
    if owner != compressor_id:
        raise DatacompError(f"--model-name: folder {folder} already exists and was not exported from {compressor_id}; "
                            "choose another --name")


def _save(model, tokenizer, folder: Path) -> None:
    """save_pretrained (safetensors) of model and tokenizer, without transformers' progress bar."""
    from transformers.utils import logging

    enabled = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        model.save_pretrained(str(folder))  # safetensors (the only format transformers 5 writes)
        tokenizer.save_pretrained(str(folder))
    finally:
        if enabled:
            logging.enable_progress_bar()
