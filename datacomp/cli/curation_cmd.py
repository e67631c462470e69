"""`datacomp slice create|list|show|definitions`, `datacomp curriculum`, `datacomp split`, `datacomp export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from datacomp.cli.common import (DEFAULT_DB, DbOption, JsonOption, app, console, existing_store, print_json,
                                 print_listing, print_table)

slice_app = typer.Typer(help="Named slices of the store, chosen by SQL definitions with typed params.",
                        no_args_is_help=True)
app.add_typer(slice_app, name="slice")


def _report(result, as_json: bool) -> None:
    if as_json:
        print_json({"name": result.name, "n_members": result.n_members, "created": result.created,
                    "kind": result.kind})
    elif result.created:
        console.print(f"slice [bold]{escape(result.name)}[/]: {result.n_members} documents", highlight=False)
    else:
        console.print(f"slice [bold]{escape(result.name)}[/] already exists with the same definition and params "
                      f"({result.n_members} documents); nothing to do", highlight=False)


@slice_app.command("create")
def create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Name of the new slice.")],
    definition: Annotated[str, typer.Option("--definition", metavar="NAME|FILE", help="Shipped definition (e.g. "
                                            "score_quantile; see `slice definitions`) or the path of your own "
                                            ".sql file.")],
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", metavar="KEY=VALUE",
                                                       help="A param of the definition, repeatable.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Rebuild a slice of this name made differently.")] = False,
    description: Annotated[Optional[str], typer.Option("--description", help="Free text stored with the "
                                                       "slice.")] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Run a slice definition with its params and store the selected documents."""
    from datacomp.api import create_slice
    from datacomp.curation.params import parse_cli_params
    from datacomp.curation.slices import SliceConfig

    config = SliceConfig(name=name, definition=definition, params=parse_cli_params(param or []),
                         description=description, replace=replace)
    with existing_store(db, read_only=False) as store:
        result = create_slice(store, config)
    _report(result, as_json)


@slice_app.command("list")
def list_(db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """Every slice with its definition, params and size."""
    from datacomp.curation.slices import list_slices

    with existing_store(db) as store:
        rows = list_slices(store)
    print_listing(rows, as_json, "no slices yet: create one with datacomp slice create NAME --definition "
                                 "DEFINITION (datacomp slice definitions lists them)", title="slices",
                 details=("params",))


@slice_app.command("show")
def show(
    name: Annotated[str, typer.Argument(metavar="SLICE", help="Slice name.")],
    limit: Annotated[int, typer.Option("--limit", help="How many members to list.")] = 10,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """A slice's record, its members per corpus and domain, buckets, and its first members."""
    from datacomp.curation.slices import show_slice

    with existing_store(db) as store:
        shown = show_slice(store, name, limit=limit)
    if as_json:
        print_json(shown)
        return
    console.print(f"slice [bold]{shown['slice_id']}[/] ({shown['kind']} {shown['definition']}): "
                  f"{shown['n_members']} documents, created {shown['created_at']}")
    console.print(f"params: {shown['params']}")
    if shown["parent"]:
        console.print(f"derived from: {shown['parent']}")
    if shown["derived"]:
        console.print(f"slices derived from it: {', '.join(shown['derived'])}")
    print_table(shown["domains"], title="members by corpus and domain")
    if shown["buckets"]:
        print_table(shown["buckets"], title="buckets")
    print_table(shown["head"], title=f"first {len(shown['head'])} members")


@slice_app.command("delete")
def delete(
    name: Annotated[str, typer.Argument(metavar="SLICE", help="Slice name.")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Remove a slice and its members (slices derived from it are kept)."""
    from datacomp.curation.slices import delete_slice, get_slice, show_slice

    with existing_store(db, read_only=False) as store:
        derived = show_slice(store, name)["derived"] if get_slice(store, name) else []
        row = delete_slice(store, name)
    if as_json:
        print_json({"name": name, "n_members": row["n_members"], "derived_kept": derived})
        return
    console.print(f"deleted slice [bold]{escape(name)}[/] ({row['n_members']} documents)", highlight=False)
    if derived:
        console.print(f"[yellow]slices derived from it remain: {escape(', '.join(derived))}[/]", highlight=False)


@slice_app.command("definitions")
def definitions(as_json: JsonOption = False) -> None:
    """The shipped slice definitions and their typed params."""
    from datacomp.curation.definitions import load_definition, shipped_names

    rows = []
    for name in shipped_names():
        definition = load_definition(name)
        rows.append({"definition": name, "description": definition.description,
                     "params": [spec.describe() for spec in definition.params.values()]})
    if as_json:
        print_json(rows)
        return
    print_table([{"definition": r["definition"], "description": r["description"],
                  "params": ", ".join(f"{p['name']}: {p['type']}" + ("" if p["required"] else f" = {p['default']}")
                                      for p in r["params"])} for r in rows], title="slice definitions")


@app.command("curriculum")
def curriculum(
    slice_name: Annotated[str, typer.Argument(metavar="SLICE", help="Slice to order.")],
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="Name of the new, ordered slice.")],
    by: Annotated[str, typer.Option("--by", metavar="COLUMN", help="Score column (entropy_mean, surprisal_mean, "
                                    "bits_per_byte, ...) or n_chars / n_bytes.")] = "entropy_mean",
    model: Annotated[Optional[str], typer.Option("--model", metavar="MODEL", help="Scoring model (id, name or "
                                                 "path).")] = None,
    descending: Annotated[bool, typer.Option("--descending", help="Highest score first.")] = False,
    buckets: Annotated[Optional[int], typer.Option("--buckets", metavar="K", help="Cut into K equal-size "
                                                   "buckets.")] = None,
    window_len: Annotated[Optional[int], typer.Option("--window-len", help="Only scores computed with this "
                                                      "window.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Rebuild a slice of this name made differently.")] = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Order a slice by a score (e.g. encoder entropy, ascending), optionally in buckets."""
    from datacomp.api import curriculum as order_slice
    from datacomp.curation.curriculum import CurriculumConfig

    config = CurriculumConfig(slice=slice_name, name=name, by=by, model=model, descending=descending,
                              buckets=buckets, window_len=window_len, replace=replace)
    with existing_store(db, read_only=False) as store:
        result = order_slice(store, config)
    _report(result, as_json)


@app.command("split")
def split(
    slice_name: Annotated[str, typer.Argument(metavar="SLICE", help="Slice to split.")],
    eval_fraction: Annotated[float, typer.Option("--eval-fraction", metavar="FRACTION", help="Share of documents "
                                                 "held out for evaluation.")] = 0.2,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the document-id hash.")] = 0,
    train_name: Annotated[Optional[str], typer.Option("--train-name", metavar="NAME", help="Name of the training "
                                                      "slice [default: SLICE/train].")] = None,
    eval_name: Annotated[Optional[str], typer.Option("--eval-name", metavar="NAME", help="Name of the held-out "
                                                     "slice [default: SLICE/eval].")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Rebuild slices of these names made "
                                          "differently.")] = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Split a slice into SLICE/train and SLICE/eval by document id: no document is in both."""
    from datacomp.api import split as split_store
    from datacomp.curation.splits import SplitConfig

    config = SplitConfig(slice=slice_name, eval_fraction=eval_fraction, seed=seed, train_name=train_name,
                         eval_name=eval_name, replace=replace)
    with existing_store(db, read_only=False) as store:
        results = split_store(store, config)
    if as_json:
        print_json([{"name": r.name, "n_members": r.n_members, "created": r.created} for r in results])
    else:
        for result in results:
            _report(result, False)


@app.command("export")
def export(
    slice_name: Annotated[str, typer.Argument(metavar="SLICE", help="Slice to write.")],
    out: Annotated[Path, typer.Option("--out", "-o", metavar="PATH", help="File (.jsonl, .jsonl.gz, .parquet) or "
                                      "folder (--format hf) to write.")],
    format: Annotated[Optional[str], typer.Option("--format", metavar="jsonl|parquet|hf", help="[default: from "
                                                  "the extension of --out]")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing file or folder.")] = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Write a slice's documents with their text and scores for other tools."""
    from datacomp.api import export as export_store
    from datacomp.curation.export import ExportConfig

    with existing_store(db, read_only=False) as store:
        result = export_store(store, ExportConfig(slice=slice_name, out=out, format=format, overwrite=overwrite))
    if as_json:
        print_json({"slice": result.slice, "out": str(result.out), "format": result.format, "n_rows": result.n_rows})
        return
    console.print(f"wrote {result.n_rows} documents of slice {result.slice} to {result.out} ({result.format})",
                  highlight=False, markup=False)
