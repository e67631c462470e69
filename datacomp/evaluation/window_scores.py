"""Predictors of the evaluated text: each example's context window scored under the compressor's encoder
and its plain decoder, stored per example in ``window_scores`` (schema 008).

The report relates quality to entropy; quality is measured on the window the compressor read (e.g. 64
tokens), so its predictors must describe that window, not the whole document. Each window is the
example's ``context_ids`` (the decoder's tokenizer, cut as the compressor cut it) after one prefix token
(BOS, else EOS: scoring/windows.py's rule), and every token is scored once. The per-token values come from
the scoring layer (scoring/forward.py's ``score_batch`` over scoring/metrics.py): one forward per model
per example, in token-budget batches (scoring/batching.py), encoder and decoder on the same batch when
they share a tokenizer so the gap (KL both ways, JS) costs no extra pass.

The trained encoder (``Compressor.trained_encoder_lm``: the autoencoder's and SAC's encoder LM after training,
adapters on) scores the windows too, into the ``tenc_*`` columns (schema 010), when it reads the decoder's
tokens: Finding 1 is about entropy under the encoder, and training moves the encoder.

Which models: the decoder with its adapters off (the plain decoder the baselines use); the encoder is the
compressor's registered encoder model: the decoder itself when they are one model (SAC), else loaded once
from its path. An encoder with another tokenizer scores the window's text in its own tokens (no gap).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from datacomp.compressors.batch import EncodedExample

TOKEN_BUDGET = 8192   # tokens per scoring batch: 128 windows of 64 tokens; the logits are chunked anyway


def _window_segments(token_rows: Sequence[Sequence[int]], prefix_id: int):
    from datacomp.scoring.windows import Segment

    return [Segment(row, (prefix_id, *ids), 0) for row, ids in enumerate(token_rows)]


def _score_rows(models: list, token_rows: Sequence[Sequence[int]], tokenizer, precision) -> list[dict[str, Any]]:
    """Per row: mean entropy and surprisal under each model (summed surprisal for bits/byte), and the mean
    KL/JS when two models are given. One forward per model per batch of windows."""
    from datacomp.scoring.batching import pad_batch, token_budget_batches
    from datacomp.scoring.forward import GAP_FIELDS, DocumentMoments, score_batch
    from datacomp.scoring.windows import prefix_token_id

    moments = DocumentMoments(len(token_rows), len(models), gap=len(models) == 2)
    prefix_id = prefix_token_id(tokenizer)
    segments = [s for s in _window_segments(token_rows, prefix_id) if s.n_scored > 0]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else prefix_id
    for batch in token_budget_batches(segments, TOKEN_BUDGET):
        padded = pad_batch(batch, pad_id)
        with precision.autocast():
            moments.add(padded.docs, score_batch(models, padded))
    named = {f"surprisal{i}": m for i, m in enumerate(moments.surprisal)}
    named |= {f"entropy{i}": m for i, m in enumerate(moments.entropy)}
    named |= {name: moments.gap[name] for name in GAP_FIELDS if name in moments.gap}
    out = []
    for row in range(len(token_rows)):
        scored = moments.count(row) > 0
        out.append({name: (m.mean(row) if scored else None) for name, m in named.items()}
                   | {"surprisal_sums": [m.total[row].item() for m in moments.surprisal]})
    return out


def _models(store, setup):
    """(decoder ScoringModel, encoder ScoringModel or None, encoder tokenizer or None, shared tokenizer?)."""
    from datacomp.models.registry import resolve_model
    from datacomp.scoring.forward import ScoringModel

    decoder = ScoringModel(setup.decoder, "decoder")
    if setup.compressor is None or not setup.encoder_id:
        return decoder, None, None, False
    if setup.encoder_id == setup.decoder_id:
        return decoder, decoder, setup.tokenizer, True
    from datacomp.compressors.lora import load_lm
    from datacomp.models.precision import apply_precision

    record = resolve_model(store, setup.encoder_id)
    model, tokenizer = setup.encoder_lm or load_lm(record.path)
    apply_precision(model.requires_grad_(False), setup.precision)
    decoder_record = resolve_model(store, setup.decoder_id)
    shared = record.tokenizer_id is not None and record.tokenizer_id == decoder_record.tokenizer_id
    return decoder, ScoringModel(model, "encoder"), tokenizer, shared


def _trained_encoder_rows(setup, windows, same_tokens: bool) -> list[dict[str, Any]] | None:
    """The windows under the compressor's trained encoder LM (adapters on), when it has one that reads the
    decoder's tokens; else None (the tenc_* columns stay NULL)."""
    from datacomp.scoring.forward import ScoringModel

    lm = setup.compressor.trained_encoder_lm() if setup.compressor is not None else None
    if lm is None or not same_tokens:
        return None
    return _score_rows([ScoringModel(lm, "trained encoder")], windows, setup.tokenizer, setup.precision)


def score_windows(store, setup, encoded: Sequence[EncodedExample], eval_id: str, run_id: str) -> int:
    """Score the windows of the examples this evaluation has not scored yet; returns how many were written."""
    from datacomp.compressors.lora import adapters_enabled
    from datacomp.models.tokenizer import tokenize_texts
    from datacomp.progress import progress_bar
    from datacomp.scoring.metrics import bits_per_byte

    done = {r["example_id"] for r in store.rows("evaluation/window_scores_done", {"eval_id": eval_id})}
    todo = [i for i, example in enumerate(setup.examples) if example.example_id not in done]
    if not todo:
        return 0
    windows = [list(encoded[i].context_ids) for i in todo]
    texts = [setup.tokenizer.decode(ids) for ids in windows]
    with progress_bar("score evaluated windows", total=len(todo), unit="examples") as bar, \
            adapters_enabled(setup.decoder, False):
        decoder, encoder, encoder_tokenizer, shared = _models(store, setup)
        if encoder is None or encoder is decoder:
            dec_rows = _score_rows([decoder], windows, setup.tokenizer, setup.precision)
            enc_rows = dec_rows if encoder is decoder else None
            pair_rows = None
        elif shared:
            pair_rows = _score_rows([encoder, decoder], windows, setup.tokenizer, setup.precision)
            enc_rows = dec_rows = None
        else:
            dec_rows = _score_rows([decoder], windows, setup.tokenizer, setup.precision)
            enc_rows = _score_rows([encoder], tokenize_texts(encoder_tokenizer, texts), encoder_tokenizer,
                                   setup.precision)
            pair_rows = None
        trained_rows = _trained_encoder_rows(setup, windows, encoder is decoder or shared)
        bar.advance(len(todo))
    rows = []
    for k, i in enumerate(todo):
        example, n_bytes = setup.examples[i], len(texts[k].encode("utf-8"))
        row: dict[str, Any] = {"eval_id": eval_id, "example_id": example.example_id, "doc_id": example.doc_id,
                               "encoder_id": setup.encoder_id if encoder is not None else None,
                               "decoder_id": setup.decoder_id, "n_tokens": len(windows[k]), "n_bytes": n_bytes,
                               "kl_enc_dec": None, "kl_dec_enc": None, "js": None, "run_id": run_id}
        if pair_rows is not None:
            both = pair_rows[k]
            sides = {"enc": (both, 0), "dec": (both, 1)}
            row.update(kl_enc_dec=both["kl_enc_dec"], kl_dec_enc=both["kl_dec_enc"], js=both["js"])
        else:
            sides = {"dec": (dec_rows[k], 0), "enc": (enc_rows[k], 0) if enc_rows is not None else None}
            if encoder is decoder:   # one model: its gap with itself is 0 by definition
                row.update(kl_enc_dec=0.0, kl_dec_enc=0.0, js=0.0)
        sides["tenc"] = (trained_rows[k], 0) if trained_rows is not None else None
        for side, source in sides.items():
            values, index = source if source is not None else ({}, 0)
            row[f"{side}_entropy"] = values.get(f"entropy{index}")
            row[f"{side}_surprisal"] = values.get(f"surprisal{index}")
            sums = values.get("surprisal_sums")
            row[f"{side}_bits_per_byte"] = bits_per_byte(sums[index], n_bytes) if sums else None
        rows.append(_finite(row))
    with store.transaction():
        for row in rows:
            store.run("evaluation/window_scores_insert", row)
    return len(rows)


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
