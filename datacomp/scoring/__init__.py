"""Scoring documents with causal LMs: per-token metrics, the batching engine, resumable writes to the store."""

from datacomp.scoring.config import ScoreConfig, ScoreSummary
from datacomp.scoring.engine import score_corpus

__all__ = ["ScoreConfig", "ScoreSummary", "score_corpus"]
