"""The README runs as written: every `datacomp ...` example parses (required flags present, values of the
right type, no deprecated spelling), the cheap ones run against a fixture store, and the Python API example
runs end to end on a folder of small text files."""

from __future__ import annotations

import random
import re
import shlex
from pathlib import Path

import pytest
from cli_capture import run_main

README = Path(__file__).resolve().parents[1] / "README.md"
# commands that only read the store or ingest small files: run for real, in README order
RUN_FOR_REAL = {("ingest",), ("corpora", "list"), ("store", "info"), ("store", "export"), ("store", "runs"),
                ("slice", "list"), ("slice", "definitions"), ("models", "list"), ("stages",)}
WORDS = ("the king river garden letter soldier window morning castle friend storm old quiet bright broken distant "
         "gentle heavy silver watched crossed remembered opened carried followed answered painted").split()


def readme_commands() -> list[str]:
    """`datacomp ...` lines of the bash blocks (comments dropped), then the inline `datacomp ...` examples."""
    text = README.read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```(?:bash|sh)\n(.*?)```", text, re.S):
        block = block.replace("\\\n", " ")   # a command continued over lines is one command
        commands += [line.split(" #")[0].strip() for line in block.splitlines() if line.startswith("datacomp ")]
    commands += re.findall(r"`(datacomp [^`]+)`", text)
    return commands


def python_example() -> str:
    section = README.read_text(encoding="utf-8").split("## Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def parse(argv: list[str]):
    """The leaf command of ``argv`` and its parsed context: raises click's UsageError as the CLI would."""
    from datacomp.cli import command
    from datacomp.cli.aliases import rewrite

    warnings: list[str] = []
    argv = rewrite(argv, warnings.append)
    assert not warnings, f"README uses a deprecated spelling: {warnings}"
    node, path = command(), []
    while getattr(node, "commands", None) and argv and argv[0] in node.commands:
        path.append(argv[0])
        node = node.commands[argv.pop(0)]
    assert not getattr(node, "commands", None), f"{' '.join(path)} is a group, not a command"
    node.make_context(" ".join(path), argv)
    return tuple(path)


def write_texts(folder: Path, n: int = 40, seed: int = 0) -> None:
    rng = random.Random(seed)
    folder.mkdir()
    for i in range(n):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 14))).capitalize() + "."
                     for _ in range(rng.randint(4, 10))]
        (folder / f"doc{i:02d}.txt").write_text(" ".join(sentences) + "\n")


@pytest.fixture
def fixture_dir(tmp_path, monkeypatch):
    """A working folder with texts/ (plain text) and data/ (jsonl with a source field), and no $DATACOMP_DB."""
    write_texts(tmp_path / "texts")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "posts.jsonl").write_text('{"text": "first post", "source": "forum"}\n'
                                                   '{"text": "second post", "source": "mail"}\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATACOMP_DB", raising=False)
    return tmp_path


def test_the_parse_check_catches_what_the_readme_got_wrong_before():
    from datacomp.cli import _click_exceptions

    for argv, message in [(["train", "--method", "sac", "--ratio", "4", "--train-slice", "S"], "Missing option '--encoder'"),
                          (["pretrain", "--mixture", "literature=0.7,code=0.3"], "Missing option '--model-name'"),
                          (["train", "--method", "sac", "--ratio", "R", "--train-slice", "S", "--encoder", "E",
                            "--decoder", "D"], "Invalid value for '--ratio'")]:
        with pytest.raises(_click_exceptions().UsageError) as raised:
            parse(argv)
        assert message in raised.value.format_message(), raised.value.format_message()


def test_every_readme_command_runs_as_written(capsys, fixture_dir):
    commands = readme_commands()
    assert len(commands) >= 25 and any(c.startswith("datacomp train --method sac") for c in commands)
    ran, helped = [], set()
    for line in commands:
        argv = shlex.split(line)[1:]
        if argv[0].startswith("-"):  # datacomp --version
            assert run_main(capsys, *argv)[0] == 0, line
            continue
        path = parse(list(argv))
        if path not in helped:
            code, out, err = run_main(capsys, *path, "--help")
            assert code == 0 and "Usage:" in out, (line, err)
            helped.add(path)
        if path in RUN_FOR_REAL:
            code, _, err = run_main(capsys, *argv)
            assert code == 0, f"`{line}` exited {code}: {err}"
            ran.append(path)
    assert {("ingest",), ("corpora", "list"), ("store", "info"), ("store", "export")} <= set(ran)
    assert (fixture_dir / "scores.parquet").is_file()


def test_the_python_api_example_runs(capsys, fixture_dir):
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: thread hand-offs cost more than the work on a shared machine
    try:
        exec(compile(python_example(), "README.md (Python API)", "exec"), {"__name__": "readme_example"})
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert out.startswith("40 documents\n")
    systems = [line.split()[0] for line in out.splitlines()[1:-1]]
    assert systems[0].startswith("autoencoder-4x-") and {"full", "none", "truncate"} <= set(systems)
    assert out.splitlines()[-1].endswith("report/report.html")
    for name in ("report.md", "report.html", "report.json"):
        assert (fixture_dir / "report" / name).is_file()
