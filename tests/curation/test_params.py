"""Parsing of `-- param:` header lines and coercion of values to the declared types."""

from __future__ import annotations

import pytest

from datacomp.curation.params import bind_params, coerce, parse_cli_params, parse_param_line
from datacomp.errors import DatacompError


def spec(line):
    return parse_param_line(line, where="f.sql:1")


def test_header_lines_parse_to_specs():
    s = spec("-- param: lo: float[0, 1] = 0.25   # lower quantile")
    assert (s.name, s.base, s.lo, s.hi, s.default, s.help, s.required) == ("lo", "float", 0.0, 1.0, 0.25,
                                                                          "lower quantile", False)
    s = spec("-- param: col: enum(a, b_2) = b_2")
    assert s.choices == ("a", "b_2") and s.default == "b_2" and s.type_text == "enum(a, b_2)"
    s = spec("-- param: n: int[1, ]? = null")
    assert s.optional and s.default is None and s.lo == 1 and s.hi is None and s.type_text == "int[1, ]?"
    assert spec("-- param: model: model").required
    assert spec("-- description: not a param") is None


@pytest.mark.parametrize("line,message", [
    ("-- param: x: number", r"f.sql:1: param 'x': unknown type 'number'"),
    ("-- param: x: enum(a, b-c)", r"enum members must be identifiers, got \['b-c'\]"),
    ("-- param: x: str[0, 1]", r"bounds are only allowed on int and float"),
    ("-- param: x: float = null", r"default null needs a nullable type \('float\?'\)"),
    ("-- param: x: int = 1.5", r"param 'x': expected int, got '1.5'"),
])
def test_bad_header_lines(line, message):
    with pytest.raises(DatacompError, match=message):
        spec(line)


@pytest.mark.parametrize("line,value,expected", [
    ("-- param: b: bool", "yes", True),
    ("-- param: b: bool", "0", False),
    ("-- param: b: bool", False, False),
    ("-- param: n: int", "12", 12),
    ("-- param: n: int", 3.0, 3),
    ("-- param: f: float", 2, 2.0),
    ("-- param: l: list[str]", "a, b,,c", ["a", "b", "c"]),
    ("-- param: l: list[str]", ["x"], ["x"]),
    ("-- param: o: float?", "null", None),
    ("-- param: s: str", " keep spaces ", " keep spaces "),
])
def test_values_coerce(line, value, expected):
    assert coerce(spec(line), value) == expected


@pytest.mark.parametrize("line,value,message", [
    ("-- param: b: bool", "maybe", r"param 'b': expected bool, got 'maybe'"),
    ("-- param: n: int", True, r"param 'n': expected int, got True"),
    ("-- param: f: float", "nan", r"param 'f': expected float, got 'nan' \(not a finite number\)"),
    ("-- param: l: list[str]", ",", r"param 'l': expected list\[str\], got ',' \(empty list\)"),
    ("-- param: l: list[str]", [1], r"param 'l': expected list\[str\], got \[1\]"),
    ("-- param: f: float", None, r"param 'f': expected float, got None \(this param cannot be null\)"),
])
def test_bad_values(line, value, message):
    with pytest.raises(DatacompError, match=message):
        coerce(spec(line), value)


def test_bind_fills_defaults_and_cli_pairs():
    specs = {s.name: s for s in (spec("-- param: a: int = 1"), spec("-- param: b: str"))}
    assert bind_params(specs, {"b": "x"}, where="d") == {"a": 1, "b": "x"}
    assert parse_cli_params(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(DatacompError, match=r"--param 'novalue': expected KEY=VALUE"):
        parse_cli_params(["novalue"])
    with pytest.raises(DatacompError, match=r"--param 'a' given twice"):
        parse_cli_params(["a=1", "a=2"])
