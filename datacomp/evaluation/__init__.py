"""Evaluation of compressors and baselines: metrics (EM/F1/BLEU), per-example runner, latency."""
