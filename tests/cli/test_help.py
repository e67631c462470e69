"""Help that a newcomer can read: conventional metavars, visible defaults, one-line command summaries."""

from __future__ import annotations

import re

import pytest
from cli_capture import run_main


def leaf_commands():
    """(path, click command) of every command that runs something (not a group)."""
    from datacomp.cli import command
    from datacomp.cli.help_text import walk

    root = command()
    found = []

    def visit(node, path):
        children = getattr(node, "commands", None)
        if children:
            for name, child in children.items():
                visit(child, [*path, name])
        else:
            found.append((tuple(path), node))

    visit(root, [])
    assert len(found) > 20 and all(node for _, node in found) and walk(root)
    return found


LEAVES = [path for path, _ in leaf_commands()]


@pytest.fixture
def wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "220")  # one help line per option: phrases are not cut by wrapping


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_help_has_conventional_metavars_and_no_type_noise(capsys, wide, path):
    code, out, _ = run_main(capsys, *path, "--help")
    assert code == 0
    for noise in ("<bool>", "<list", "<str>", "<int>", "<float>", "<path>", "{"):
        assert noise not in out, (path, noise, out)
    usage = next(line for line in out.splitlines() if "Usage:" in line)
    assert re.search(r"\[OPTIONS\]( \[?[A-Z][^ {}]*)*\s*$", usage), usage   # arguments in capitals, no braces


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_help_texts_are_shown_whole(capsys, wide, path):
    """rich markup used to swallow "[default: ...]" ("Tokens per window ."): every option's help text, brackets
    and all, must reach the screen."""
    node = dict(leaf_commands())[path]
    code, out, _ = run_main(capsys, *path, "--help")
    assert code == 0
    flat = " ".join(out.replace("│", " ").split())
    for param in node.params:
        written = " ".join((param.help or "").replace("\\[", "[").split())
        assert written in flat, (path, param.name, written)


def test_score_window_default_is_visible(capsys, wide):
    code, out, _ = run_main(capsys, "score", "--help")
    assert code == 0
    assert "Tokens per window [default: the model's context, at most 2048]." in out
    assert "Tokens per window ." not in out


def test_top_level_command_list_has_one_line_per_command(capsys, wide):
    from datacomp.cli import command

    code, out, _ = run_main(capsys, "--help")
    assert code == 0
    for name, node in command().commands.items():
        line = next(line for line in out.splitlines() if re.match(rf"\W*{name}\s", line))
        summary = node.short_help
        assert "\n" not in summary and not re.search(r"\w\. [A-Z]", summary), (name, summary)   # one sentence
        assert summary in line, (name, line)   # not broken across lines


def test_usage_lines_name_arguments_conventionally(capsys):
    for path, usage in [(("ingest",), "ingest [OPTIONS] PATH..."), (("models", "add"), "models add [OPTIONS] [PATH]"),
                        (("curriculum",), "curriculum [OPTIONS] SLICE"), (("run",), "run [OPTIONS] FILE"),
                        (("store", "export"), "store export [OPTIONS] TABLE")]:
        code, out, _ = run_main(capsys, *path, "-h")
        assert code == 0 and usage in out, (path, out)


def test_required_options_are_shown_as_required(capsys, wide):
    code, out, _ = run_main(capsys, "train", "-h")
    assert code == 0
    for flag in ("--method", "--ratio", "--encoder", "--decoder"):
        line = next(line for line in out.splitlines() if f" {flag} " in line)
        assert line.lstrip("│ ").startswith("*") and "[required]" in line, line
    line = next(line for line in out.splitlines() if " --train-slice " in line)
    assert "[required, except with --task qa without --pretrain-steps]" in line, line
    code, _, err = run_main(capsys, "train", "--ratio", "4", "--encoder", "e", "--decoder", "d")
    assert code == 2 and "Missing option '--method'" in err


def test_every_out_has_o_and_every_command_has_json():
    for path, node in leaf_commands():
        options = {opt for param in node.params for opt in getattr(param, "opts", [])}
        if "--out" in options:
            assert "-o" in options, path
        assert "--json" in options, f"{' '.join(path)} has no --json"


def test_switches_have_no_negative_twin():
    for path, node in leaf_commands():
        for param in node.params:
            assert not getattr(param, "secondary_opts", []), (path, param.opts, param.secondary_opts)
