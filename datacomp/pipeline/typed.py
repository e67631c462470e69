"""Building a config dataclass from a TOML table, checking every key and type.

Field annotations drive the checks: ``int``, ``float`` (an int is accepted), ``str``, ``bool``, ``Path``,
``Literal[...]``, ``X | None``, ``list[X]``, ``tuple[X, ...]``, ``dict[str, X]`` and ``Any``. Errors
say which key is wrong and why; the caller adds the file and line (``locate(key) -> "file:line"``). Values
are checked as TOML typed them (a string is never read as a bool or a number: text_values.py is for text).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any, Callable, Literal

from datacomp.errors import ConfigError, DatacompError

MISSING = dataclasses.MISSING
# "@stage" / "@stage.key": another stage's output, accepted for any field and checked once it is known
REFERENCE = re.compile(r"^@([A-Za-z0-9_][A-Za-z0-9_\-]*)(?:\.([A-Za-z0-9_]+))?$")


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
    """An instance of dataclass ``cls`` from ``values``. Every unknown, missing or mistyped key is reported
    (one line each, with ``locate(key)`` and ``context``), and then the dataclass's own checks (a ConfigError
    from its __post_init__, in the words of the file: keys, not flags)."""
    def error(key: str, message: str) -> str:
        where = locate(key) + ": " if locate else ""
        return f"{where}{context}{message}"

    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    problems: list[str] = []
    for key in values:
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(error(key, f"unknown key '{prefix}{key}' ({hint}known: {', '.join(fields)})"))
    kwargs = {}
    for name, field in fields.items():
        if name in values:
            try:
                kwargs[name] = check_value(hints[name], values[name], prefix + name)
            except ConfigError as problem:  # a nested table's own check
                if prefix:
                    raise
                problems.append(config_error_text(problem, cls, locate, context))
            except DatacompError as problem:
                if prefix:
                    raise
                problems.append(error(name, str(problem)))
        elif field.default is MISSING and field.default_factory is MISSING:
            problems.append(error("", f"missing required key '{prefix}{name}' ({type_name(hints[name])})"))
    if problems:
        raise DatacompError("\n".join(problems))
    try:
        return cls(**kwargs)
    except ConfigError as problem:
        if prefix:
            raise problem.nested(prefix) from None
        raise DatacompError(config_error_text(problem, cls, locate, context)) from None


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


def config_error_text(problem: ConfigError, cls: type, locate: Callable[[str], str] | None = None,
                      context: str = "") -> str:
    """``file:line: context key message`` for a ConfigError of config ``cls``: its fields as the file's keys
    (a nested config's by their dotted path), at the line of the key at fault."""
    paths = key_paths(cls)

    def key(field: str) -> str:
        return field if "." in field else paths.get(field, field)

    where = locate(key(problem.path())) + ": " if locate else ""
    return f"{where}{context}{problem.render(key)}"


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
