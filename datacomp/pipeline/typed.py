"""Building a config dataclass from a TOML table, checking every key and type.

Field annotations drive the checks: ``int``, ``float`` (an int is accepted), ``str``, ``bool``, ``Path``,
``Literal[...]``, ``X | None``, ``list[X]``, ``tuple[X, ...]``, ``dict[str, X]`` and ``Any``. Errors
say which key is wrong and why; the caller adds the file and line (``locate(key) -> "file:line"``).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any, Callable, Literal

from datacomp.errors import DatacompError

MISSING = dataclasses.MISSING
# "@stage" / "@stage.key": another stage's output, accepted for any field and checked once it is known
REFERENCE = re.compile(r"^@([A-Za-z0-9_][A-Za-z0-9_\-]*)(?:\.([A-Za-z0-9_]+))?$")
# how library messages name a config field: as its flag, --token-budget for token_budget
FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)")


def type_name(annotation: Any) -> str:
    """A short readable name of an annotation: 'int', 'list[str]', 'one of "a", "b"', 'float or null'."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return "any value"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        names = [type_name(a) for a in args if a is not type(None)]
        return " | ".join(names) + (" | null" if type(None) in args else "")
    if origin in (list, tuple):
        return f"list of {type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"table of {type_name(args[1])}" if len(args) == 2 else "table"
    if annotation is Path:
        return "path (string)"
    return getattr(annotation, "__name__", str(annotation))


def check_value(annotation: Any, value: Any, key: str) -> Any:
    """``value`` converted to ``annotation`` (ints to floats, strings to Paths, lists to tuples) or a
    DatacompError 'key: expected T, got V'."""
    def fail(detail: str = "") -> DatacompError:
        return DatacompError(f"key '{key}': expected {type_name(annotation)}, got {value!r}"
                             + (f" ({detail})" if detail else ""))

    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any or (isinstance(value, str) and REFERENCE.match(value)):
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        for option in args:
            if option is type(None):
                continue
            try:
                return check_value(option, value, key)
            except DatacompError:
                continue
        raise fail()
    if origin is Literal:
        if value in args and not isinstance(value, bool):
            return value
        raise fail()
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise fail()
        item_type = args[0] if args else Any
        items = [check_value(item_type, item, f"{key}[{i}]") for i, item in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise fail()
        value_type = args[1] if len(args) == 2 else Any
        return {k: check_value(value_type, v, f"{key}.{k}") for k, v in value.items()}
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise fail()
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise fail()
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise fail()
    if annotation is str:
        if isinstance(value, str):
            return value
        raise fail()
    if annotation is Path:
        if isinstance(value, str) and value:
            return Path(value)
        raise fail()
    if dataclasses.is_dataclass(annotation):
        if not isinstance(value, dict):
            raise fail()
        return build(annotation, value, prefix=f"{key}.")
    raise DatacompError(f"key '{key}': datacomp cannot check values of type {annotation!r} (a bug in the stage)")


def build(cls: type, values: dict[str, Any], prefix: str = "",
          locate: Callable[[str], str] | None = None, context: str = "") -> Any:
    """An instance of dataclass ``cls`` from ``values``; errors carry ``locate(key)`` and ``context``."""
    def error(key: str, message: str) -> DatacompError:
        where = locate(key) + ": " if locate else ""
        return DatacompError(f"{where}{context}{message}")

    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in values:
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise error(key, f"unknown key '{prefix}{key}' ({hint}known: {', '.join(fields)})")
    def in_keys(problem: DatacompError, key: str) -> DatacompError:
        """A check of the dataclass itself (its __post_init__) names flags: the outermost call makes them keys."""
        if prefix:
            return problem
        message, named = flags_as_keys(str(problem), cls)
        return error(named or key, message)

    kwargs = {}
    for name, field in fields.items():
        if name in values:
            try:
                kwargs[name] = check_value(hints[name], values[name], prefix + name)
            except DatacompError as problem:
                raise in_keys(problem, name) from None
        elif field.default is MISSING and field.default_factory is MISSING:
            raise error("", f"missing required key '{prefix}{name}' ({type_name(hints[name])})")
    try:
        return cls(**kwargs)
    except DatacompError as problem:
        raise in_keys(problem, "") from None


def key_paths(cls: type) -> dict[str, str]:
    """Field name -> its key in a file: ``token_budget`` -> ``token_budget``, and a field of a nested table
    by its dotted path (``layers`` -> ``shape.layers``) unless a top-level field has that name."""
    hints = typing.get_type_hints(cls)
    top = [field.name for field in dataclasses.fields(cls)]
    paths: dict[str, str] = {}
    for name in top:
        if dataclasses.is_dataclass(hints[name]):
            paths.update({inner.name: f"{name}.{inner.name}" for inner in dataclasses.fields(hints[name])})
    paths.update({name: name for name in top})
    return paths


def flags_as_keys(message: str, cls: type) -> tuple[str, str | None]:
    """A library error in the words of a file or a Python call: library messages name a config field as its
    flag (``--token-budget must be positive``), so every ``--flag`` that is a field of ``cls`` becomes its
    key (``token_budget must be positive``); a repeatable flag names its list key (``--corpus`` ->
    ``corpora``). Returns the message and the first key it names (None when it names none)."""
    paths = key_paths(cls)
    first: list[str] = []

    def as_key(match: re.Match) -> str:
        name = match.group(1).replace("-", "_")
        key = paths.get(name) or paths.get(name + "s") or paths.get(re.sub(r"us$", "ora", name))
        if key is None:
            return match.group(0)  # a flag of no field (--db, --json): left as it is
        first.append(key)
        return key

    return FLAG.sub(as_key, message), (first[0] if first else None)


def describe_fields(cls: type) -> list[dict[str, Any]]:
    """Name, type and default of every field: what `datacomp run --list-stages` prints."""
    hints = typing.get_type_hints(cls)
    rows = []
    for field in dataclasses.fields(cls):
        if field.default is not MISSING:
            default = field.default
        elif field.default_factory is not MISSING:
            default = field.default_factory()
        else:
            default = "(required)"
        rows.append({"key": field.name, "type": type_name(hints[field.name]), "default": default})
    return rows
