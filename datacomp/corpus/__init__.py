"""Corpus ingestion: readers per source format, validation into documents or quarantine rows, the
batch writer, and the built-in demo corpora (``datacomp.corpus.demo``)."""

from datacomp.corpus.ingest import IngestConfig, IngestSummary, ingest_paths, ingest_records
from datacomp.corpus.normalize import doc_id_of, normalize_text

__all__ = ["IngestConfig", "IngestSummary", "ingest_paths", "ingest_records", "doc_id_of", "normalize_text"]
