"""Slice definitions: a SQL file whose header declares typed params and whose body is one SELECT.

Shipped definitions live in ``queries/slices/NAME.sql`` and are referred to by NAME; any other
``.sql`` file is a user definition, run on a read-only connection. The SELECT returns ``doc_id`` and
optionally ``order_key`` (members are ranked by it, then by doc_id). Header lines:

    -- slice: score_quantile
    -- description: documents whose score under a model lies between two quantiles
    -- param: model: model                     # encoder or decoder, by id, name or path
    -- param: lo: float[0, 1] = 0.0

Only ``enum`` params may be spliced into the text, as ``{{name}}``; every other value is bound as ``$name``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Any

import duckdb

from datacomp.curation.params import ParamSpec, parse_param_line
from datacomp.errors import DatacompError
from datacomp.store.sql import queries_dir

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_DESCRIPTION = re.compile(r"^--\s*description:\s*(.*)$")


@dataclasses.dataclass(frozen=True)
class SliceDefinition:
    """A parsed slice definition file."""

    ref: str                      # what the user named it by: "score_quantile" or the file path
    path: Path
    shipped: bool                 # under queries/slices/: trusted, runs on the store's own connection
    description: str
    params: dict[str, ParamSpec]
    template: str                 # the SQL text, placeholders not yet filled

    @property
    def sql_hash(self) -> str:
        return hashlib.sha256(self.template.encode()).hexdigest()[:16]

    def render(self, values: dict[str, Any]) -> str:
        """The SQL with each ``{{enum_param}}`` replaced by its (already validated) identifier."""
        def fill(match: re.Match) -> str:
            name = match.group(1)
            spec = self.params.get(name)
            if spec is None or spec.base != "enum":
                raise DatacompError(f"{self.path}: {{{{{name}}}}} is not an enum param: only enum params "
                                    "may be spliced into the SQL; bind values as ${name}")
            value = values[name]
            if value not in spec.choices:  # coerce() checked this already; never splice anything else
                raise DatacompError(f"{self.path}: param '{name}': {value!r} is not one of {spec.choices}")
            return value
        return _PLACEHOLDER.sub(fill, self.template)


def shipped_dir() -> Path:
    return queries_dir() / "slices"


def shipped_names() -> list[str]:
    return sorted(path.stem for path in shipped_dir().glob("*.sql"))


def load_definition(ref: str | Path) -> SliceDefinition:
    """A definition by shipped name (``score_quantile``), ``queries/slices/X.sql`` or any .sql path."""
    ref_text = str(ref)
    path = Path(ref_text)
    shipped_path = shipped_dir() / f"{path.stem}.sql"
    if path.suffix != ".sql":
        if not shipped_path.is_file():
            raise DatacompError(f"no slice definition {ref_text!r} (shipped: {', '.join(shipped_names())}; "
                                "or give the path of a .sql file)")
        path = shipped_path
    elif not path.is_file():
        raise DatacompError(f"slice definition file not found: {path}")
    shipped = path.resolve() == shipped_path.resolve() and shipped_path.is_file()
    text = path.read_text(encoding="utf-8")
    params: dict[str, ParamSpec] = {}
    description = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped.startswith("--"):
            continue
        spec = parse_param_line(stripped, where=f"{path}:{number}")
        if spec is not None:
            if spec.name in params:
                raise DatacompError(f"{path}:{number}: param '{spec.name}' declared twice")
            params[spec.name] = spec
        elif match := _DESCRIPTION.match(stripped):
            description = match.group(1).strip()
    definition = SliceDefinition(ref=path.stem if shipped else str(path), path=path, shipped=shipped,
                                 description=description, params=params, template=text)
    _check_placeholders(definition)
    return definition


def _check_placeholders(definition: SliceDefinition) -> None:
    for number, line in enumerate(definition.template.splitlines(), start=1):
        for match in _PLACEHOLDER.finditer(line):
            spec = definition.params.get(match.group(1))
            if spec is None or spec.base != "enum":
                raise DatacompError(
                    f"{definition.path}:{number}: {{{{{match.group(1)}}}}} is not a declared enum param; "
                    "only enum params (a fixed set of identifiers) may be spliced into the SQL")


def check_select_only(con: duckdb.DuckDBPyConnection, sql_text: str, where: str) -> set[str]:
    """The statement's named parameters, if ``sql_text`` is exactly one SELECT; else a DatacompError."""
    try:
        statements = con.extract_statements(sql_text)
    except duckdb.Error as error:
        raise DatacompError(f"{where}: cannot parse the SQL: {error}") from error
    if len(statements) != 1:
        raise DatacompError(f"{where}: a slice definition must be exactly one SELECT statement, "
                            f"found {len(statements)} statements")
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        kind = statement.type.name
        raise DatacompError(f"{where}: only SELECT is allowed in a slice definition, found {kind} "
                            "(slice definitions read the store, never change it)")
    return set(statement.named_parameters)
