"""`datacomp ingest PATH... --corpus NAME`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from datacomp.cli.common import (DEFAULT_DB, DbOption, JsonOption, app, console, console_err, creating_store,
                                 print_json, print_table)


@app.command("ingest")
def ingest(
    paths: Annotated[list[str], typer.Argument(
        metavar="PATH...", help="jsonl(.gz), csv(.gz), parquet, .txt/.md, folders of them, datasets saved with "
        "save_to_disk, or hf:NAME[:SPLIT] (needs network).")],
    corpus: Annotated[str, typer.Option("--corpus", metavar="NAME", help="Corpus the documents belong to.")],
    domain: Annotated[Optional[str], typer.Option("--domain", metavar="NAME", help="Domain of every record "
                                                  "[default: the corpus name].")] = None,
    domain_field: Annotated[Optional[str], typer.Option("--domain-field", metavar="FIELD", help="Record field "
                                                        "holding a per-record domain.")] = None,
    domain_from_subfolder: Annotated[bool, typer.Option(
        "--domain-from-subfolder", help="Files in a folder input take the name of their first subfolder as domain "
        "(texts/news/a.txt: news); files directly in the folder keep --domain.")] = False,
    text_field: Annotated[str, typer.Option("--text-field", metavar="FIELD", help="Field or column holding the "
                                            "text.")] = "text",
    max_chars: Annotated[int, typer.Option("--max-chars", help="Longer texts are quarantined as "
                                           "too_long.")] = 1_000_000,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Records per transaction.")] = 1000,
    license: Annotated[Optional[str], typer.Option("--license", help="Licence of the corpus, recorded in "
                                                   "`corpora`.")] = None,
    description: Annotated[Optional[str], typer.Option("--description", help="Free text recorded with the "
                                                       "corpus.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit with status 2 if any record is quarantined or any "
                                         "input is empty (the good records are still stored).")] = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Read records into the store: normalised, deduplicated by content hash, bad records quarantined."""
    from datacomp.api import ingest as ingest_into
    from datacomp.corpus import IngestConfig

    config = IngestConfig(corpus=corpus, text_field=text_field, domain=domain, domain_field=domain_field,
                          domain_from_subfolder=domain_from_subfolder,
                          max_chars=max_chars, batch_size=batch_size, license=license, description=description)
    from rich.markup import escape

    from datacomp.errors import DatacompError

    with creating_store(db) as store:
        summary = ingest_into(store, paths, config)
    for empty in summary.empty_inputs if summary.read else []:  # with nothing read, the error says it
        console_err.print(f"[yellow]warning:[/] {escape(empty)} is empty: no records in it", highlight=False)
    line = summary.quarantine_line()
    if line:
        console_err.print(f"[yellow]{escape(line)}[/]", highlight=False)
    if as_json:
        print_json(summary.as_dict())
    else:
        print_table([{"corpus": summary.corpus, "read": summary.read, "ingested": summary.ingested,
                      "duplicates": summary.duplicates, "quarantined": summary.quarantined}], title="ingest")
        if summary.reasons:
            print_table([{"reason": r, "records": n} for r, n in summary.reasons.items()], title="quarantined")
            console.print("see them with: datacomp store export quarantine -o quarantine.parquet")
    problem = summary.problem(", ".join(paths), strict=strict)
    if problem:
        raise DatacompError(problem)
