"""One reading of text values: the words for true/false/none are the same for --param and --method-config."""

from __future__ import annotations

from typing import Optional

import pytest

from datacomp.errors import DatacompError
from datacomp.text_values import FALSE_WORDS, TRUE_WORDS, parse_text


@pytest.mark.parametrize("text, value", [
    *[(word, True) for word in TRUE_WORDS], *[(word, False) for word in FALSE_WORDS],
    (" Yes ", True), ("OFF", False),
])
def test_the_words_for_true_and_false(text, value):
    assert parse_text(text, bool) is value


def test_numbers_and_refusals():
    assert (parse_text(" 7 ", int), parse_text("0.5", float), parse_text(" a ", str)) == (7, 0.5, " a ")
    for text, kind in [("maybe", bool), ("2", bool), ("7.5", int), ("x", float)]:
        with pytest.raises(ValueError):
            parse_text(text, kind)


@pytest.mark.parametrize("text", ["on", "off", "yes", "no", "1", "0", "true", "FALSE", "maybe", "none", "null"])
def test_a_slice_param_and_a_method_config_key_read_the_same_words_alike(text):
    from datacomp.compressors.registry import _typed_value
    from datacomp.curation.params import coerce, parse_param_line

    def read(function):
        try:
            return function()
        except DatacompError:
            return "refused"

    spec = parse_param_line("-- param: flag: bool?", "t.sql:1")
    expected = {"none": None, "null": None, "maybe": "refused"}.get(text.lower(), text.lower() in TRUE_WORDS)
    assert read(lambda: coerce(spec, text)) == read(lambda: _typed_value("flag", text, Optional[bool])) == expected
