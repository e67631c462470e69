"""A store filled with synthetic data whose relationships are planted and known.

- 3 corpora (prose / code / wiki), ``n_per_domain`` documents each, plus quarantined records.
- An encoder and four decoders D0..D3 whose pretraining mixtures drift away from the encoder's.
- Scores: encoder entropy ~ U(1.5, 4.5) (+0.3 for code); decoder entropy independent of everything;
  surprisal = entropy + 0.4 + noise.
- Gaps: JS(enc, D_k) = 0.05 + 0.1 k + noise.
- Compressors: autoencoder 4x with each decoder, SAC 4x with D0.
- Reconstruction F1 = 0.9 + enc_slope * (enc_entropy - 3) + gap_slope * (js - 0.05) + noise (clipped to
  0-1); decoder entropy has no effect. Baselines full ~0.98, none ~0.05, truncate/drop at 4x ~0.3.
- With ``windows``, every compressor example's evaluated window is scored (window_scores, schema 008) with
  the same planted values, so the report reads its predictors from the windows; without, from documents.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from datacomp.store.runs import record_run


def _insert(store, table: str, rows: list[dict]) -> None:
    """Append rows by position in the table's column order (no SQL text: the relational API)."""
    import pyarrow as pa

    columns = store.con.table(table).columns
    arrays = {c: [row.get(c) for row in rows] for c in columns}
    store.con.from_arrow(pa.table(arrays)).insert_into(table)


def populate(store, enc_slope: float = -0.1, gap_slope: float = -0.6, n_per_domain: int = 40,
             seed: int = 0, noise: float = 0.03, windows: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    domains = {"news": "prose", "code": "code", "wiki": "wiki"}
    documents, corpora = [], []
    for corpus, domain in domains.items():
        corpora.append({"corpus": corpus, "domain": domain, "source": f"synthetic:{corpus}", "license": "CC0"})
        for i in range(n_per_domain):
            text = f"{corpus} document {i} " + " ".join(rng.choice(["alpha", "beta", "gamma", "delta"],
                                                                    size=int(rng.integers(20, 400))))
            documents.append({"doc_id": hashlib.sha256(text.encode()).hexdigest(), "corpus": corpus,
                              "domain": domain, "text": text, "n_chars": len(text), "n_bytes": len(text),
                              "source": f"{corpus}.jsonl:{i + 1}"})
    _insert(store, "corpora", corpora)
    _insert(store, "documents", documents)
    _insert(store, "quarantine", [
        {"quarantine_id": k, "corpus": "news", "source": "news.jsonl", "locator": f"news.jsonl:{100 + k}",
         "reason": "invalid_json", "detail": "Expecting value at column 1"} for k in range(3)
    ] + [{"quarantine_id": 9, "corpus": "code", "source": "code.jsonl", "locator": "code.jsonl:7",
          "reason": "empty_text", "detail": "text is whitespace only"}])

    mixtures = {"enc": {"prose": 0.5, "code": 0.5}}
    for k in range(4):
        mixtures[f"dec{k}"] = {"prose": 0.5 - 0.1 * k, "code": 0.5 - 0.05 * k, "wiki": 0.15 * k}
    models = [{"model_id": f"{name}-abc123", "name": name, "path": f"/models/{name}", "n_params": 1_000_000,
               "tokenizer_id": "tok1", "architecture": "llama", "mixture": json.dumps(mix),
               "train_info": json.dumps({"steps": 100, "seed": 0}), "source": "pretrain"}
              for name, mix in mixtures.items()]
    _insert(store, "models", models)

    n = len(documents)
    enc_entropy = rng.uniform(1.5, 4.5, size=n) + np.array([0.3 if d["domain"] == "code" else 0.0
                                                              for d in documents])
    scores = []
    entropies = {}
    for model in models:
        entropy = enc_entropy if model["name"] == "enc" else rng.uniform(1.5, 4.5, size=n)
        entropies[model["model_id"]] = entropy
        for doc, h in zip(documents, entropy):
            scores.append({"doc_id": doc["doc_id"], "model_id": model["model_id"], "window_len": 256,
                           "stride": 128, "dtype": "float32", "n_tokens": doc["n_chars"] // 4,
                           "n_bytes": doc["n_bytes"], "surprisal_mean": h + 0.4 + rng.normal(0, 0.3),
                           "surprisal_std": 1.0, "entropy_mean": h, "entropy_std": 0.5,
                           "bits_per_byte": (h + 0.4) / np.log(2) / 4})
    _insert(store, "scores", scores)
    gaps = []
    js = {}
    for k in range(4):
        for doc in documents:
            value = max(0.0, 0.05 + 0.1 * k + rng.normal(0, 0.01))
            js[(k, doc["doc_id"])] = value
            gaps.append({"doc_id": doc["doc_id"], "encoder_id": "enc-abc123", "decoder_id": f"dec{k}-abc123",
                         "window_len": 256, "stride": 128, "dtype": "float32", "method": "token",
                         "n_tokens": doc["n_chars"] // 4, "kl_enc_dec": 2 * value, "kl_dec_enc": 2.2 * value,
                         "js": value, "js_std": 0.01})
    _insert(store, "gaps", gaps)

    compressors = [{"compressor_id": f"ae4-dec{k}", "method": "autoencoder", "ratio": 4.0,
                    "encoder_id": "enc-abc123", "decoder_id": f"dec{k}-abc123", "train_slice": "train",
                    "train_info": json.dumps({"steps": 50}),
                    "config": json.dumps({"decoder_lora": k == 3}),
                    "decoder_tuned": k == 3} for k in range(4)]  # dec3's decoder is tuned
    compressors.append({"compressor_id": "sac4-dec0", "method": "sac", "ratio": 4.0, "encoder_id": "enc-abc123",
                        "decoder_id": "dec0-abc123", "train_slice": "train", "train_info": json.dumps({"steps": 50}),
                        "decoder_tuned": False})
    _insert(store, "compressors", compressors)
    evaluations, window_rows = [], []
    for c in compressors:
        k = int(c["decoder_id"][3])
        offset = 0.0 if c["method"] == "autoencoder" else -0.15
        eval_id = f"ev-{c['compressor_id']}"
        for i, (doc, h) in enumerate(zip(documents, enc_entropy)):
            f1 = 0.9 + offset + enc_slope * (h - 3) + gap_slope * (js[(k, doc["doc_id"])] - 0.05) \
                + rng.normal(0, noise)
            f1 = float(np.clip(f1, 0, 1))
            common = {"eval_id": eval_id, "run_id": "eval-1", "compressor_id": c["compressor_id"],
                      "decoder_id": c["decoder_id"], "task": "reconstruction", "example_id": doc["doc_id"][:16],
                      "doc_id": doc["doc_id"]}
            window_rows.append({"eval_id": eval_id, "example_id": common["example_id"], "doc_id": doc["doc_id"],
                                "encoder_id": "enc-abc123", "decoder_id": c["decoder_id"], "n_tokens": 64,
                                "n_bytes": 256, "enc_entropy": h, "enc_surprisal": h + 0.4,
                                "dec_entropy": float(entropies[c["decoder_id"]][i]),
                                "dec_surprisal": 3.0, "js": js[(k, doc["doc_id"])], "run_id": "eval-1"})
            evaluations.append({**common, "system": c["compressor_id"], "method": c["method"], "ratio_target": 4.0,
                                "ratio_actual": 4.0 + rng.normal(0, 0.1), "f1": f1, "em": float(f1 > 0.95),
                                "bleu": f1 * 0.8, "target_nll": 5.0 * (1 - 0.5 * f1), "compress_ms": 5.0,
                                "decode_ms": 20.0})
            # the baselines run beside every compressor evaluation, on the same examples
            for system, level, ratio in (("full", 0.98, 1.0), ("none", 0.05, None), ("truncate", 0.3, 4.0),
                                         ("drop", 0.35, 4.0)):
                value = float(np.clip(level + rng.normal(0, 0.02), 0, 1))
                evaluations.append({**common, "system": system, "method": system, "ratio_target": ratio,
                                    "ratio_actual": ratio, "f1": value, "em": 0.0, "bleu": value * 0.8,
                                    "target_nll": 5.0 * (1 - 0.5 * value), "compress_ms": 0.1})
    _insert(store, "evaluations", evaluations)
    if windows:
        _insert(store, "window_scores", window_rows)
    with record_run(store, "score", {"corpus": "news", "encoder": "enc", "decoder": "dec0"}, seed=7):
        pass
    return {"n_docs": n, "enc_entropy": enc_entropy}


FAST = dict(n_boot=100, max_figure_compressors=1)  # small enough for the default suite
