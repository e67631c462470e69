"""Ingestion: inputs -> readers -> validation -> batched, atomic writes, with a summary that always
satisfies ``read == ingested + duplicates + quarantined``.

``ingest_paths`` is what ``datacomp ingest`` calls; ``ingest_records`` takes already-read records (the demo
corpora and pipelines use it).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from datacomp.corpus.readers import HUB_PREFIX, Item, check_input, iter_input
from datacomp.corpus.records import RawRecord, Rejected
from datacomp.corpus.validate import Document, Rules, validate
from datacomp.corpus.writer import write_batch
from datacomp.config_checks import at_least
from datacomp.errors import ConfigError, DatacompError
from datacomp.progress import progress_bar
from datacomp.store.db import Store
from datacomp.store.runs import record_run

_RECORDS = "\x00records"  # a key no field name has
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
    domain_from_subfolder: bool = False  # files in a folder input: the domain is their first subfolder's name
    max_chars: int = 1_000_000          # ~1 MB: a book fits, a dumped binary or a whole crawl shard doesn't
    batch_size: int = 1000              # records per transaction: a crash loses at most this many
    license: str | None = None          # recorded in the corpora table
    description: str | None = None

    def rules(self) -> Rules:
        return Rules(self.text_field, self.domain or self.corpus, self.domain_field, self.max_chars)

    def __post_init__(self) -> None:
        if not _CORPUS_NAME.match(self.corpus):
            raise ConfigError("corpus", f"{self.corpus!r}: use letters, digits, '_', '.', '-' (max 64)")
        at_least(self, "max_chars", 1)
        at_least(self, "batch_size", 1)
        if not self.text_field:
            raise ConfigError("text_field", "must not be empty")


@dataclass
class IngestSummary:
    corpus: str
    read: int = 0
    ingested: int = 0
    duplicates: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # quarantine reason -> records
    first: dict[str, str] = field(default_factory=dict)    # quarantine reason -> "locator: detail" of the first
    empty_inputs: list[str] = field(default_factory=list)  # inputs (files, folders) that held no record at all
    run_id: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def quarantine_line(self) -> str | None:
        """``quarantined 3 records: missing_field (first: a.jsonl:1: field 'text' is missing (fields: body))``."""
        if not self.quarantined:
            return None
        if len(self.reasons) == 1:
            parts = [f"{reason} (first: {self.first.get(reason, '?')})" for reason in self.reasons]
        else:
            parts = [f"{n} {reason} (first: {self.first.get(reason, '?')})" for reason, n in self.reasons.items()]
        noun = "record" if self.quarantined == 1 else "records"
        return f"quarantined {self.quarantined} {noun}: " + "; ".join(parts)

    def problem(self, inputs: str, strict: bool = False) -> str | None:
        """Why this ingestion should fail, or None. One rule for every format: an ingestion that stores
        nothing fails, whether its inputs held no record at all (an empty .jsonl, .csv, parquet or folder) or
        every record was quarantined (an empty .txt is one record with empty text); an empty input or a
        quarantined record beside ones that were stored is reported, and fails only when ``strict``."""
        if not self.read:
            empty = self.empty_inputs or [inputs]
            return f"nothing ingested: {', '.join(empty)} {'is' if len(empty) == 1 else 'are'} empty (no records)"
        if strict and self.empty_inputs:
            return f"--strict: {', '.join(self.empty_inputs)} held no records"
        if not self.ingested and not self.duplicates:
            return (f"nothing ingested from {inputs}: all {self.read} records read were quarantined "
                    f"({', '.join(f'{r}: {n}' for r, n in self.reasons.items())})")
        if strict and self.quarantined:
            return f"--strict: {self.quarantined} of {self.read} records read from {inputs} were quarantined"
        return None


def ingest_records(store: Store, items: Iterable[Item], config: IngestConfig,
                   source: str | None = None, show_progress: bool = True) -> IngestSummary:
    """Validate and store records (``RawRecord`` or ``Rejected``) in batches of ``config.batch_size``.

    ``source`` describes where the records came from (recorded in the corpora table);
    ``show_progress=False`` when the caller shows its own progress bar.
    """
    rules = config.rules()
    summary = IngestSummary(corpus=config.corpus)
    reasons: Counter[str] = Counter()
    described = False  # the corpora row is written with the first document: an ingestion of nothing leaves none
    domain_checked = not rules.domain_field
    with record_run(store, "ingest", {**asdict(config), "source": source}) as run, \
            (progress_bar(f"ingest {config.corpus}", total=None, unit="records") if show_progress
             else nullcontext(_NoBar())) as bar:
        summary.run_id = run.run_id

        def flush(batch: list) -> None:
            nonlocal described
            has_documents = any(isinstance(item, Document) for item in batch)
            with run.phase("write"):
                if has_documents and not described:
                    store.run("corpus/upsert_corpus", {"corpus": config.corpus, "domain": rules.default_domain,
                                                       "source": source, "license": config.license,
                                                       "description": config.description})
                    described = True
                counts = write_batch(store, config.corpus, run.run_id, batch)
            summary.read += len(batch)
            summary.ingested += counts.ingested
            summary.duplicates += counts.duplicates
            summary.quarantined += counts.quarantined
            for item in batch:
                if isinstance(item, Rejected):
                    reasons[item.reason] += 1
                    summary.first.setdefault(item.reason, f"{item.locator}: {item.detail}")
            summary.reasons = dict(sorted(reasons.items()))
            run.counts.update(read=summary.read, ingested=summary.ingested, duplicates=summary.duplicates,
                              quarantined=summary.quarantined, reasons=summary.reasons)
            bar.advance(len(batch), new=summary.ingested, dup=summary.duplicates, bad=summary.quarantined)

        batch: list = []
        fields_seen: Counter[str] = Counter()  # fields of the first batch's records, while --domain-field
        for item in items:                     # is unchecked (_RECORDS counts the records)
            if isinstance(item, RawRecord):
                if not domain_checked:
                    fields_seen.update([_RECORDS] + [str(k) for k in item.fields])
                item = validate(item, rules)
            batch.append(item)
            if len(batch) >= config.batch_size:
                domain_checked = domain_checked or _check_domain_field(rules.domain_field, fields_seen)
                flush(batch)
                batch = []
        if batch:
            domain_checked = domain_checked or _check_domain_field(rules.domain_field, fields_seen)
            flush(batch)
    return summary


def _check_domain_field(domain_field: str | None, fields_seen: Counter[str]) -> bool:
    """Before the first batch with records is written: a --domain-field none of them has is a typo, not a
    field that happens to be absent (True once checked; False while no record has been read)."""
    n_records = fields_seen.pop(_RECORDS, 0)
    if not n_records:
        return False
    if domain_field not in fields_seen:
        noun = "record" if n_records == 1 else f"{n_records} records"
        raise ConfigError("domain_field", f"{domain_field!r}: no record has this field (checked the first "
                            f"{noun}); fields present: {', '.join(sorted(fields_seen)) or 'none'}")
    return True


def ingest_paths(store: Store, paths: Sequence[str], config: IngestConfig) -> IngestSummary:
    """Ingest files, folders, saved datasets or ``hf:NAME[:SPLIT]`` into corpus ``config.corpus``.

    Every input is checked before anything is written: a missing path is a ``DatacompError`` naming it.
    """
    if not paths:
        raise DatacompError("no input paths given")
    specs = [str(p) for p in paths]
    for spec in specs:
        check_input(spec)
    # Locators name files by absolute path: the same file read as `a.jsonl`, `./a.jsonl` or from another
    # folder is one file, so its quarantine rows and duplicate occurrences are recorded once.
    located = {spec: spec if spec.startswith(HUB_PREFIX) else os.path.abspath(spec) for spec in specs}

    folders = {spec for spec, path in located.items() if config.domain_from_subfolder and Path(path).is_dir()}
    if config.domain_from_subfolder and not folders:
        raise DatacompError(f"--domain-from-subfolder: none of the inputs is a folder ({', '.join(specs)}); "
                            "it names each file's domain after its subfolder below a folder input")
    empty: list[str] = []

    def items() -> Iterable[Item]:
        for spec in specs:
            n = 0
            for item in iter_input(located[spec]):
                n += 1
                if spec in folders and isinstance(item, RawRecord):
                    item = dataclasses.replace(item, domain=_subfolder(Path(item.source), Path(located[spec])))
                yield item
            if n == 0:
                empty.append(spec)

    summary = ingest_records(store, items(), config, source=", ".join(located.values()))
    summary.empty_inputs = empty
    return summary


def _subfolder(source: Path, folder: Path) -> str | None:
    """The first folder below ``folder`` on the way to ``source`` (a file, or a saved dataset's folder);
    None for a file directly in ``folder``."""
    parts = source.relative_to(folder).parts
    parts = parts if source.is_dir() else parts[:-1]
    return parts[0] if parts else None
