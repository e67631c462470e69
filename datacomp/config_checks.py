"""The checks a config dataclass runs on itself in ``__post_init__``, raising ConfigError naming the field.

A config checks what its own values can tell (ranges, choices, fields that exclude each other) where it is
built, so the CLI, the Python API and a pipeline file (when it is read, before any stage runs) all refuse a
bad value the same way; what needs the store (does the slice exist?) is checked when the work is planned.
``choices(config)`` reads the allowed values from the fields' ``Literal[...]`` annotations, the ones the
pipeline's typed loader (pipeline/typed.py) reports too.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Iterable, Literal

from datacomp.errors import ConfigError


def allowed_text(allowed: Iterable[Any]) -> str:
    return ", ".join(repr(value) for value in allowed)


def literal_values(annotation: Any) -> tuple[Any, ...] | None:
    """The values of a ``Literal[...]`` annotation, also inside ``X | None``; None for any other type."""
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(annotation):
            if (values := literal_values(option)) is not None:
                return values
    return None


def choices(config: Any) -> None:
    """Every field annotated ``Literal[...]`` (or ``list[Literal[...]]``, ``Literal[...] | None``) holds
    allowed values."""
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):
        annotation = hints[field.name]
        value = getattr(config, field.name)
        if value is None:
            continue
        if typing.get_origin(annotation) in (list, tuple):
            allowed = literal_values(typing.get_args(annotation)[0]) if typing.get_args(annotation) else None
            for item in value if allowed is not None else ():
                one_of(field.name, item, allowed)
        elif (allowed := literal_values(annotation)) is not None:
            one_of(field.name, value, allowed)


def one_of(field: str, value: Any, allowed: Iterable[Any]) -> None:
    """``value`` (of field ``field``, or an item of it when it is a list) is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed or isinstance(value, bool) != any(isinstance(a, bool) for a in allowed):
        raise ConfigError(field, f"must be one of {allowed_text(allowed)}, got {value!r}")


def positive(config: Any, *fields: str) -> None:
    """Each field, when set (not None), is > 0."""
    for field in fields:
        value = getattr(config, field)
        if value is not None and not value > 0:
            raise ConfigError(field, f"must be positive, got {value}")


def at_least(config: Any, field: str, minimum: float) -> None:
    value = getattr(config, field)
    if value is not None and value < minimum:
        raise ConfigError(field, f"must be at least {minimum}, got {value}")


def between(config: Any, field: str, low: float, high: float, strict: bool = False) -> None:
    """``low <= value <= high`` (``strict``: ``low < value < high``), when set."""
    value = getattr(config, field)
    if value is None:
        return
    if (low < value < high) if strict else (low <= value <= high):
        return
    bounds = "strictly between" if strict else "between"
    raise ConfigError(field, f"must lie {bounds} {low} and {high}, got {value}")
