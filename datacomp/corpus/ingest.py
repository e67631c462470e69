"""Ingestion: inputs -> readers -> validation -> batched, atomic writes, with a summary that always
satisfies ``read == ingested + duplicates + quarantined``.

``ingest_paths`` is what ``datacomp ingest`` calls; ``ingest_records`` takes already-read records (the demo
corpora and pipelines use it).
"""

from __future__ import annotations

import re
from collections import Counter
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import Iterable, Sequence

from datacomp.corpus.readers import Item, check_input, iter_input
from datacomp.corpus.records import RawRecord, Rejected
from datacomp.corpus.validate import Rules, validate
from datacomp.corpus.writer import write_batch
from datacomp.errors import DatacompError
from datacomp.progress import progress_bar
from datacomp.store.db import Store
from datacomp.store.runs import record_run

_CORPUS_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class _NoBar:
    def advance(self, n: float = 1, **info: object) -> None:
        pass


@dataclass
class IngestConfig:
    corpus: str
    text_field: str = "text"            # the usual name in jsonl/parquet/HF datasets
    domain: str | None = None           # None: the corpus name is the domain
    domain_field: str | None = None     # a per-record domain overrides `domain` where present
    max_chars: int = 1_000_000          # ~1 MB: a book fits, a dumped binary or a whole crawl shard doesn't
    batch_size: int = 1000              # records per transaction: a crash loses at most this many
    license: str | None = None          # recorded in the corpora table
    description: str | None = None

    def rules(self) -> Rules:
        return Rules(self.text_field, self.domain or self.corpus, self.domain_field, self.max_chars)

    def check(self) -> None:
        if not _CORPUS_NAME.match(self.corpus):
            raise DatacompError(f"corpus name {self.corpus!r}: use letters, digits, '_', '.', '-' (max 64)")
        if self.max_chars < 1:
            raise DatacompError(f"--max-chars must be at least 1, got {self.max_chars}")
        if self.batch_size < 1:
            raise DatacompError(f"batch size must be at least 1, got {self.batch_size}")
        if not self.text_field:
            raise DatacompError("--text-field must not be empty")


@dataclass
class IngestSummary:
    corpus: str
    read: int = 0
    ingested: int = 0
    duplicates: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # quarantine reason -> records
    run_id: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def ingest_records(store: Store, items: Iterable[Item], config: IngestConfig,
                   source: str | None = None, show_progress: bool = True) -> IngestSummary:
    """Validate and store records (``RawRecord`` or ``Rejected``) in batches of ``config.batch_size``.

    ``source`` describes where the records came from (recorded in the corpora table);
    ``show_progress=False`` when the caller shows its own progress bar.
    """
    config.check()
    rules = config.rules()
    summary = IngestSummary(corpus=config.corpus)
    reasons: Counter[str] = Counter()
    store.run("corpus/upsert_corpus", {"corpus": config.corpus, "domain": rules.default_domain,
                                       "source": source, "license": config.license,
                                       "description": config.description})
    with record_run(store, "ingest", {**asdict(config), "source": source}) as run, \
            (progress_bar(f"ingest {config.corpus}", total=None, unit="records") if show_progress
             else nullcontext(_NoBar())) as bar:
        summary.run_id = run.run_id

        def flush(batch: list) -> None:
            with run.phase("write"):
                counts = write_batch(store, config.corpus, run.run_id, batch)
            summary.read += len(batch)
            summary.ingested += counts.ingested
            summary.duplicates += counts.duplicates
            summary.quarantined += counts.quarantined
            reasons.update(item.reason for item in batch if isinstance(item, Rejected))
            summary.reasons = dict(sorted(reasons.items()))
            run.counts.update(read=summary.read, ingested=summary.ingested, duplicates=summary.duplicates,
                              quarantined=summary.quarantined, reasons=summary.reasons)
            bar.advance(len(batch), new=summary.ingested, dup=summary.duplicates, bad=summary.quarantined)

        batch: list = []
        for item in items:
            batch.append(validate(item, rules) if isinstance(item, RawRecord) else item)
            if len(batch) >= config.batch_size:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    return summary


def ingest_paths(store: Store, paths: Sequence[str], config: IngestConfig) -> IngestSummary:
    """Ingest files, folders, saved datasets or ``hf:NAME[:SPLIT]`` into corpus ``config.corpus``.

    Every input is checked before anything is written: a missing path is a ``DatacompError`` naming it.
    """
    if not paths:
        raise DatacompError("no input paths given")
    config.check()
    specs = [str(p) for p in paths]
    for spec in specs:
        check_input(spec)

    def items() -> Iterable[Item]:
        for spec in specs:
            yield from iter_input(spec)

    return ingest_records(store, items(), config, source=", ".join(specs))
