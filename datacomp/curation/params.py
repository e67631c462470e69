"""Typed parameters of a slice definition, declared in the SQL file's header comment.

A header line reads ``-- param: NAME: TYPE [= DEFAULT] [# help]``. Types:

- ``int``, ``float`` (optionally bounded: ``float[0, 1]``, ``int[1, ]``), ``str``, ``bool``
- ``list[str]``: a list, or on the command line a comma-separated string
- ``list[corpus]``: the same, each a corpus the store holds (an unknown one is an error listing them)
- ``enum(a, b, c)``: one of a fixed set of identifiers; the only kind of parameter that may be
  spliced into the SQL text, as ``{{name}}`` (e.g. a column name), after it matched the set
- ``model``: a registered model by id, name or path; bound as its ``model_id``
- ``slice``: the name of an existing slice

A ``?`` after the type (``float?``) lets the value be null; ``= null`` is then its default. A parameter
without a default is required. Values are always bound as ``$name``, never formatted into SQL.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any, Callable

from datacomp.errors import DatacompError
from datacomp.text_values import is_null_text, parse_text

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER_PARAM = re.compile(r"^--\s*param:\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*:\s*(?P<rest>.*)$")
_TYPE = re.compile(
    r"^(?P<base>int|float|str|bool|model|slice|list\[str\]|list\[corpus\]|enum\((?P<members>[^)]*)\))"
    r"(?:\[(?P<lo>[^,\]]*),(?P<hi>[^\]]*)\])?(?P<optional>\?)?$"
)
_NO_DEFAULT = object()


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """One declared parameter: its name, type, bounds, default and help text."""

    name: str
    base: str                       # int / float / str / bool / model / slice / list[str] / list[corpus] / enum
    choices: tuple[str, ...] = ()   # enum members
    lo: float | None = None         # inclusive bounds for int / float
    hi: float | None = None
    optional: bool = False
    default: Any = _NO_DEFAULT
    help: str = ""

    @property
    def required(self) -> bool:
        return self.default is _NO_DEFAULT

    @property
    def type_text(self) -> str:
        """The type as the header spells it, for messages."""
        text = f"enum({', '.join(self.choices)})" if self.base == "enum" else self.base
        if self.lo is not None or self.hi is not None:
            text += f"[{_num(self.lo)}, {_num(self.hi)}]"
        return text + ("?" if self.optional else "")

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type_text,
                "default": None if self.required else self.default, "required": self.required,
                "help": self.help}


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def parse_param_line(line: str, where: str) -> ParamSpec | None:
    """A ParamSpec from one ``-- param:`` header line (None for other lines); ``where`` = file:line."""
    match = _HEADER_PARAM.match(line.strip())
    if not match:
        return None
    name, rest = match.group("name"), match.group("rest")
    rest, _, help_text = rest.partition("#")
    type_text, has_default, default_text = rest.partition("=")
    type_match = _TYPE.match(type_text.replace(" ", ""))
    if not type_match:
        raise DatacompError(
            f"{where}: param '{name}': unknown type {type_text.strip()!r} (known: int, float, str, bool, "
            "list[str], enum(a, b), model, slice; bounds like float[0, 1]; '?' for nullable)")
    base = type_match.group("base")
    choices: tuple[str, ...] = ()
    if base.startswith("enum("):
        choices = tuple(c.strip() for c in type_match.group("members").split(",") if c.strip())
        bad = [c for c in choices if not IDENTIFIER.match(c)]
        if not choices or bad:
            raise DatacompError(f"{where}: param '{name}': enum members must be identifiers, got {bad or 'none'}")
        base = "enum"
    lo_text, hi_text = (type_match.group("lo") or "").strip(), (type_match.group("hi") or "").strip()
    if (lo_text or hi_text) and base not in ("int", "float"):
        raise DatacompError(f"{where}: param '{name}': bounds are only allowed on int and float")
    try:
        lo = float(lo_text) if lo_text else None
        hi = float(hi_text) if hi_text else None
    except ValueError:
        raise DatacompError(f"{where}: param '{name}': bounds must be numbers, got [{lo_text}, {hi_text}]") from None
    spec = ParamSpec(name=name, base=base, choices=choices, lo=lo, hi=hi,
                     optional=bool(type_match.group("optional")), help=help_text.strip())
    if has_default:
        default_text = default_text.strip()
        if default_text == "null":
            if not spec.optional:
                raise DatacompError(f"{where}: param '{name}': default null needs a nullable type ('{spec.type_text}?')")
            default = None
        else:
            default = coerce(spec, _unquote(default_text), where=where)
        spec = dataclasses.replace(spec, default=default)
    return spec


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def coerce(spec: ParamSpec, value: Any, where: str = "",
           resolve: Callable[[ParamSpec, Any], Any] | None = None) -> Any:
    """The value as the declared type, or a DatacompError naming the param and the expected type.

    Strings (from ``--param k=v``) are parsed; native values (from a pipeline file) are checked.
    ``resolve`` turns model / slice / corpus references into what the SQL binds (it may raise too).
    """
    prefix = f"{where}: " if where else ""

    def fail(reason: str = "") -> DatacompError:
        return DatacompError(f"{prefix}param '{spec.name}': expected {spec.type_text}, got {value!r}"
                             + (f" ({reason})" if reason else ""))

    if value is None or (isinstance(value, str) and is_null_text(value) and spec.optional):
        if not spec.optional:
            raise fail("this param cannot be null")
        return None
    base = spec.base
    if base == "int":
        if isinstance(value, bool):
            raise fail()
        if isinstance(value, str):
            try:
                value_out = parse_text(value, int)
            except ValueError:
                raise fail() from None
        elif isinstance(value, int):
            value_out = value
        elif isinstance(value, float) and value.is_integer():
            value_out = int(value)
        else:
            raise fail()
        return _check_bounds(spec, value_out, fail)
    if base == "float":
        if isinstance(value, bool):
            raise fail()
        try:
            value_out = parse_text(value, float) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            raise fail() from None
        if not math.isfinite(value_out):
            raise fail("not a finite number")
        return _check_bounds(spec, value_out, fail)
    if base == "bool":
        if isinstance(value, bool):
            return value
        if not isinstance(value, str):
            raise fail()
        try:
            return parse_text(value, bool)
        except ValueError:
            raise fail() from None
    if base in ("list[str]", "list[corpus]"):
        if isinstance(value, str):
            items = [item.strip() for item in value.split(",") if item.strip()]
        elif isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
            items = list(value)
        else:
            raise fail()
        if not items:
            raise fail("empty list")
        return resolve(spec, items) if base == "list[corpus]" and resolve is not None else items
    if base == "enum":
        if not isinstance(value, str) or value.strip() not in spec.choices:
            raise fail()
        return value.strip()
    if not isinstance(value, str) or not value.strip():
        raise fail()
    if base in ("model", "slice") and resolve is not None:
        return resolve(spec, value.strip())
    return value if base == "str" else value.strip()


def _check_bounds(spec: ParamSpec, value: float, fail: Callable[[str], DatacompError]) -> Any:
    if spec.lo is not None and value < spec.lo:
        raise fail(f"below the lower bound {_num(spec.lo)}")
    if spec.hi is not None and value > spec.hi:
        raise fail(f"above the upper bound {_num(spec.hi)}")
    return value


def parse_cli_params(pairs: list[str], option: str = "--param") -> dict[str, str]:
    """``["lo=0.1", "domains=a,b"]`` -> ``{"lo": "0.1", "domains": "a,b"}``; types are checked later."""
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise DatacompError(f"{option} {pair!r}: expected KEY=VALUE")
        if key.strip() in params:
            raise DatacompError(f"{option} {key.strip()!r} given twice")
        params[key.strip()] = value
    return params


def bind_params(specs: dict[str, ParamSpec], given: dict[str, Any], where: str,
                resolve: Callable[[ParamSpec, Any], Any] | None = None) -> dict[str, Any]:
    """Every declared param as its typed value (defaults filled in); unknown or missing ones are errors."""
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise DatacompError(f"{where}: unknown param '{unknown[0]}' (known: {', '.join(specs) or 'none'})")
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        if name in given:
            values[name] = coerce(spec, given[name], where=where, resolve=resolve)
        elif spec.required:
            raise DatacompError(f"{where}: missing required param '{name}' ({spec.type_text})"
                                + (f": {spec.help}" if spec.help else ""))
        else:
            values[name] = spec.default
    return values
