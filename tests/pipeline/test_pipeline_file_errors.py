"""Errors in a pipeline file name the file, the line and the key."""

from __future__ import annotations

import re

import pytest

from datacomp.errors import DatacompError
from datacomp.pipeline import load_pipeline

GOOD = """\
[pipeline]
name = "errors"

[[stage]]
name = "a"
type = "fake"
value = 1

[[stage]]
name = "b"
type = "fake"
after = ["a"]
ratio = 0.5
tags = ["x", "y"]
"""


def load_text(tmp_path, text):
    path = tmp_path / "x.toml"
    path.write_text(text)
    return load_pipeline(path)


def expect(tmp_path, text, line, message):
    with pytest.raises(DatacompError) as raised:
        load_text(tmp_path, text)
    assert str(raised.value).startswith(f"{tmp_path / 'x.toml'}:{line}: "), str(raised.value)
    assert re.search(message, str(raised.value)), str(raised.value)


def test_good_file_loads_with_typed_configs(tmp_path, calls):
    pipeline = load_text(tmp_path, GOOD)
    b = pipeline.stage("b")
    assert b.config.ratio == 0.5 and b.config.tags == ["x", "y"] and b.after == ["a"] and b.line == 9


def test_unknown_key_names_the_line_and_known_keys(tmp_path, calls):
    expect(tmp_path, GOOD.replace("ratio = 0.5", "ratoi = 0.5"), 13,
           r"stage 'b': unknown key 'ratoi' \(did you mean 'ratio'\? known: value, input, ratio, tags, fail\)")


@pytest.mark.parametrize("old,new,line,message", [
    ("value = 1", 'value = "one"', 7, r"stage 'a': key 'value': expected int, got 'one'"),
    ("value = 1", "value = 1.5", 7, r"key 'value': expected int, got 1.5"),
    ("ratio = 0.5", "ratio = true", 13, r"stage 'b': key 'ratio': expected float, got True"),
    ('tags = ["x", "y"]', 'tags = ["x", 2]', 14, r"key 'tags\[1\]': expected str, got 2"),
])
def test_wrong_types(tmp_path, calls, old, new, line, message):
    expect(tmp_path, GOOD.replace(old, new), line, message)


def test_unknown_stage_type(tmp_path, calls):
    expect(tmp_path, GOOD.replace('name = "b"\ntype = "fake"', 'name = "b"\ntype = "scorr"'), 11,
           r"stage 'b': unknown stage type 'scorr' \(known: .*curriculum.*fake.*slice")


def test_unknown_after_and_reference(tmp_path, calls):
    expect(tmp_path, GOOD.replace('after = ["a"]', 'after = ["z"]'), 12,
           r"stage 'b': after = 'z' is not a stage of this pipeline \(stages: a, b\)")
    expect(tmp_path, GOOD.replace("ratio = 0.5", 'input = "@nowhere"'), 13,
           r"stage 'b': '@nowhere' refers to no stage of this pipeline")


def test_cycle(tmp_path, calls):
    text = GOOD.replace("value = 1", 'value = 1\nafter = ["b"]')
    expect(tmp_path, text, 8, r"stage 'a': dependency cycle a -> b -> a")
    text = GOOD.replace("value = 1", 'input = "@b"')  # a cycle through a reference
    expect(tmp_path, text, 7, r"dependency cycle a -> b -> a")


def test_invalid_toml_duplicate_names_and_missing_keys(tmp_path, calls):
    expect(tmp_path, GOOD.replace("value = 1", "value = = 1"), 7, r"invalid TOML")
    expect(tmp_path, GOOD.replace('name = "b"', 'name = "a"'), 10,
           r"stage name 'a' is used twice \(first at .*x.toml:5\)")
    expect(tmp_path, GOOD.replace('type = "fake"\nvalue = 1', "value = 1"), 4, r"stage 1: key 'type' must be a "
           r"non-empty string \(missing\)")
    expect(tmp_path, GOOD.replace('name = "errors"', 'name = "errors"\ndbb = "x"'), 3,
           r"\[pipeline\]: unknown key 'dbb' \(known: name, db, out, description\)")
    expect(tmp_path, GOOD + '\n[stages]\nx = 1\n', 16, r"unknown top-level key 'stages'")


def test_slice_params_are_checked_when_the_file_is_read(tmp_path, calls):
    text = GOOD + """
[[stage]]
name = "low"
type = "slice"
definition = "score_quantile"
params = { model = "@a", hi = "half" }
"""
    expect(tmp_path, text, 20, r"stage 'low': slice definition score_quantile: param 'hi': expected float\[0, 1\], "
                               r"got 'half'")
    expect(tmp_path, text.replace('hi = "half"', "hii = 0.5"), 20, r"unknown param 'hii' \(known: model, score_col")
    expect(tmp_path, text.replace('model = "@a", hi = "half"', "hi = 0.5"), 20, r"missing required param 'model' \(model\)")
    sub_table = GOOD + """
[[stage]]
name = "low"
type = "slice"
definition = "score_quantile"

[stage.params]
model = "@a"
lo = 2.0
"""
    expect(tmp_path, sub_table, 23, r"param 'lo': expected float\[0, 1\], got 2.0 \(above the upper bound 1\)")
