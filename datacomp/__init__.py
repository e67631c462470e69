"""datacomp: data-centric analysis and curation of text corpora for LLM context compression."""

__version__ = "0.1.0"
