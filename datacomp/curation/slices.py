"""Named slices: sets of documents chosen by a slice definition, stored with a rank per member.

``create_slice(store, "low_entropy", "score_quantile", {"model": "enc", "hi": 0.25})`` type-checks the
params against the definition's header, runs its SELECT (a user file on a read-only connection), and
stores the members. Re-creating a slice with the same definition and params changes nothing; with
different ones it needs ``replace=True``. Curricula and splits store their slices through
``store_slice`` with the same rules.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pyarrow as pa

from datacomp.curation.definitions import SliceDefinition, check_select_only, load_definition
from datacomp.curation.params import ParamSpec, bind_params
from datacomp.curation.readonly import read_only_connection
from datacomp.errors import ConfigError, DatacompError
from datacomp.store import Store
from datacomp.store.runs import record_run, to_jsonable

SLICE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$")


@dataclasses.dataclass
class SliceConfig:
    """What `datacomp slice create` and ``datacomp.create_slice`` are asked to do."""

    name: str                                   # the new slice
    definition: str                             # shipped definition (score_quantile, ...) or a .sql path
    params: dict[str, Any] = dataclasses.field(default_factory=dict)   # typed by the definition's header
    description: str | None = None              # default: the definition's own
    replace: bool = False                       # rebuild a slice of this name made differently

    def __post_init__(self) -> None:
        check_slice_name(self.name)


@dataclasses.dataclass
class SliceResult:
    """What create/curriculum/split did: ``created`` is False when an identical slice already existed."""

    name: str
    n_members: int
    created: bool
    kind: str


@dataclasses.dataclass(frozen=True)
class SliceSpec:
    """Everything that identifies how a slice was made: equal specs make equal slices."""

    kind: str                  # definition / curriculum / split
    definition: str            # the definition's name or path, or the derivation (e.g. "curriculum")
    params: dict[str, Any]
    sql_hash: str | None = None
    parent: str | None = None
    description: str | None = None

    def same_as(self, row: dict[str, Any]) -> bool:
        stored = json.loads(row["params"]) if isinstance(row["params"], str) else row["params"]
        return (row["kind"] == self.kind and row["definition"] == self.definition
                and row["sql_hash"] == self.sql_hash and stored == to_jsonable(self.params))


# ------------------------------------------------------------------------------------------ reading
def get_slice(store: Store, name: str) -> dict[str, Any] | None:
    rows = store.rows("curation/slice_get", {"name": name})
    if not rows:
        return None
    row = rows[0]
    if isinstance(row["params"], str):
        row["params"] = json.loads(row["params"])
    return row


def require_slice(store: Store, name: str, what: str = "slice") -> dict[str, Any]:
    row = get_slice(store, name)
    if row is None:
        known = [r["slice_id"] for r in store.rows("curation/slice_list")]
        raise DatacompError(f"{what} {name!r} not found (slices: {', '.join(known) or 'none'}; "
                            "create one with `datacomp slice create`)")
    return row


def list_slices(store: Store) -> list[dict[str, Any]]:
    return store.rows("curation/slice_list")


def slice_members(store: Store, name: str) -> list[dict[str, Any]]:
    """Members in rank order with doc_id, rank, bucket, corpus, domain, n_chars."""
    require_slice(store, name)
    return store.rows("curation/slice_members", {"name": name})


def slice_doc_ids(store: Store, name: str) -> list[str]:
    """The slice's doc_ids in rank order: what training and evaluation iterate over."""
    return [row["doc_id"] for row in slice_members(store, name)]


def show_slice(store: Store, name: str, limit: int = 10) -> dict[str, Any]:
    """The slice's record, members per corpus/domain, buckets, and its first ``limit`` members."""
    row = require_slice(store, name)
    return {**row,
            "domains": store.rows("curation/slice_domains", {"name": name}),
            "buckets": store.rows("curation/slice_buckets", {"name": name}),
            "derived": [r["slice_id"] for r in store.rows("curation/slice_children", {"name": name})],
            "head": store.rows("curation/slice_members", {"name": name})[:limit]}


def delete_slice(store: Store, name: str) -> dict[str, Any]:
    """Remove a slice and its members; returns its record (slices derived from it are kept)."""
    row = require_slice(store, name)
    with store.transaction():
        store.run("curation/members_delete", {"name": name})
        store.run("curation/slice_delete", {"name": name})
    return row


# ------------------------------------------------------------------------------------------ writing
def check_slice_name(name: str, field: str = "name") -> None:
    """A ConfigError naming ``field`` (the config field that holds the name) unless ``name`` is a slice name."""
    if not SLICE_NAME.match(name or ""):
        raise ConfigError(field, f"{name!r} is no slice name: use letters, digits and _ . - / (starting with a "
                                 "letter, digit or _)")


def existing_identical(store: Store, name: str, spec: SliceSpec, replace: bool) -> dict[str, Any] | None:
    """The stored slice if it was made exactly as ``spec`` says (nothing to do); None if it must be
    (re)built; a DatacompError if it differs and ``replace`` is not set."""
    row = get_slice(store, name)
    if row is None:
        return None
    if spec.same_as(row) and not replace:
        return row
    if not replace:
        raise DatacompError(
            f"slice {name!r} already exists with a different definition or params "
            f"({_difference(row, spec)}); pass --replace to rebuild it (replace = true in a pipeline)")
    return None


def _difference(row: dict[str, Any], spec: SliceSpec) -> str:
    if row["kind"] != spec.kind or row["definition"] != spec.definition:
        return f"was {row['kind']} {row['definition']!r}, now {spec.kind} {spec.definition!r}"
    if row["sql_hash"] != spec.sql_hash:
        return f"the SQL of {spec.definition} changed"
    old = row["params"] if isinstance(row["params"], dict) else json.loads(row["params"])
    new = to_jsonable(spec.params)
    changed = [f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in sorted(set(old) | set(new))
               if old.get(k) != new.get(k)]
    return "; ".join(changed) or "params differ"


def store_slice(store: Store, name: str, members: pa.Table, spec: SliceSpec, run_id: str | None) -> int:
    """Replace slice ``name`` by ``members`` (columns doc_id, order_key, bucket) in one transaction."""
    return store_slices(store, [(name, members, spec)], run_id)[0]


def store_slices(store: Store, slices: list[tuple[str, pa.Table, SliceSpec]], run_id: str | None) -> list[int]:
    """Replace several slices at once, all or nothing (a split writes train and eval together).

    Every doc_id must be a document of the store and appear once per slice; no slice may be empty.
    """
    for name, members, spec in slices:
        _check_members(store, name, members, spec)
    with store.transaction():
        for name, members, spec in slices:
            store.con.register("members_input", members)
            try:
                store.run("curation/members_delete", {"name": name})
                store.run("curation/slice_delete", {"name": name})
                store.run("curation/members_insert", {"name": name})
                store.run("curation/slice_insert", {
                    "name": name, "kind": spec.kind, "definition": spec.definition, "sql_hash": spec.sql_hash,
                    "params": json.dumps(to_jsonable(spec.params), sort_keys=True),
                    "description": spec.description, "n_members": members.num_rows, "parent": spec.parent,
                    "run_id": run_id,
                })
            finally:
                store.con.unregister("members_input")
    return [members.num_rows for _, members, _ in slices]


def _check_members(store: Store, name: str, members: pa.Table, spec: SliceSpec) -> None:
    if members.num_rows == 0:
        raise DatacompError(f"slice {name!r}: {spec.definition} with params {to_jsonable(spec.params)} "
                            "selected no documents")
    store.con.register("members_input", members)
    try:
        duplicates = store.rows("curation/members_duplicates")
        if duplicates:
            raise DatacompError(f"slice {name!r}: {spec.definition} returned doc_id "
                                f"{duplicates[0]['doc_id']!r} {duplicates[0]['n']} times; a slice holds "
                                "each document once (add DISTINCT or GROUP BY doc_id)")
        unknown = store.rows("curation/members_unknown")
        if unknown:
            raise DatacompError(f"slice {name!r}: {spec.definition} returned doc_id {unknown[0]['doc_id']!r}, "
                                "which is not a document of the store")
    finally:
        store.con.unregister("members_input")


def members_table(doc_ids: list[str], order_keys: list[Any] | None = None,
                  buckets: list[int | None] | None = None) -> pa.Table:
    """The members_input table store_slice takes; order_keys default to the list order."""
    n = len(doc_ids)
    return pa.table({
        "doc_id": pa.array(doc_ids, pa.string()),
        "order_key": pa.array(list(range(n)) if order_keys is None else order_keys),
        "bucket": pa.array([None] * n if buckets is None else buckets, pa.int32()),
    })


# ------------------------------------------------------------------------------------------ create
def resolver(store: Store):
    """Turns ``model`` params into model ids and checks that ``slice`` and ``list[corpus]`` params name
    slices and corpora the store has."""
    def resolve(spec: ParamSpec, value: Any) -> Any:
        if spec.base == "model":
            from datacomp.models.registry import resolve_model

            try:
                return resolve_model(store, value).model_id
            except DatacompError as error:
                raise DatacompError(f"param '{spec.name}': {error}") from error
        if spec.base == "slice":
            require_slice(store, value, what=f"param '{spec.name}': slice")
        if spec.base == "list[corpus]":
            from datacomp.corpus.names import require_corpora

            try:
                require_corpora(store, value)
            except DatacompError as error:
                raise DatacompError(f"param '{spec.name}': {error}") from error
        return value
    return resolve


def create_slice(store: Store, name: str, definition: str | SliceDefinition,
                 params: dict[str, Any] | None = None, replace: bool = False,
                 description: str | None = None) -> SliceResult:
    """Create slice ``name`` from a definition (shipped name or .sql path) and its params."""
    check_slice_name(name)
    definition = definition if isinstance(definition, SliceDefinition) else load_definition(definition)
    values = bind_params(definition.params, params or {}, where=f"slice definition {definition.ref}",
                         resolve=resolver(store))
    spec = SliceSpec(kind="definition", definition=definition.ref, params=values,
                     sql_hash=definition.sql_hash, description=description or definition.description)
    if (row := existing_identical(store, name, spec, replace)) is not None:
        return SliceResult(name, row["n_members"], created=False, kind=spec.kind)
    sql_text = definition.render(values)
    bound = check_query(store, definition, sql_text, values)  # refused SQL never starts a run
    config = {"name": name, "definition": definition.ref, "params": values, "sql_hash": definition.sql_hash}
    with record_run(store, "slice", config) as run:
        with run.phase("select"):
            members = run_definition(store, definition, sql_text, bound)
        with run.phase("store"):
            n = store_slice(store, name, members, spec, run.run_id)
        run.count("members", n)
    return SliceResult(name, n, created=True, kind=spec.kind)


def check_query(store: Store, definition: SliceDefinition, sql_text: str,
                values: dict[str, Any]) -> dict[str, Any]:
    """The values the SQL binds, once it proved to be one SELECT using only declared params."""
    where = str(definition.path)
    used = check_select_only(store.con, sql_text, where)
    undeclared = sorted(used - set(values))
    if undeclared:
        raise DatacompError(f"{where}: ${undeclared[0]} is used in the SQL but not declared "
                            f"(add `-- param: {undeclared[0]}: TYPE` to the header)")
    return {key: values[key] for key in used}


def run_definition(store: Store, definition: SliceDefinition, sql_text: str,
                   bound: dict[str, Any]) -> pa.Table:
    """Run the checked SELECT (user files read-only) -> members table (doc_id, order_key, bucket)."""
    import duckdb

    where = str(definition.path)
    try:
        if definition.shipped:
            result = store.con.sql(sql_text, params=bound).to_arrow_table()
        else:
            with read_only_connection(store) as con:
                result = con.sql(sql_text, params=bound).to_arrow_table()
    except duckdb.Error as error:
        raise DatacompError(f"{where}: the slice query failed: {error}") from error
    if "doc_id" not in result.column_names:
        raise DatacompError(f"{where}: the SELECT must return a doc_id column (got {', '.join(result.column_names)})")
    order_key = result.column("order_key") if "order_key" in result.column_names else pa.nulls(result.num_rows)
    return pa.table({"doc_id": result.column("doc_id").cast(pa.string()), "order_key": order_key,
                     "bucket": pa.nulls(result.num_rows, pa.int32())})
