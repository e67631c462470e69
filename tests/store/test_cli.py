"""`datacomp store ...` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "datacomp", *args], capture_output=True, text=True, timeout=120)


def test_store_info_json_counts_tables(tmp_path):
    db = tmp_path / "s.duckdb"
    result = run_cli("store", "info", "--db", str(db), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["tables"]["documents"] == 0
    assert info["schema_version"] >= 4


def test_export_error_is_one_clear_line_not_a_traceback(tmp_path):
    db = tmp_path / "s.duckdb"
    result = run_cli("store", "export", "nope", "--out", str(tmp_path / "x.parquet"), "--db", str(db))
    assert result.returncode == 2
    assert "error: no table 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_required_option_is_a_usage_error_not_a_traceback(tmp_path):
    result = run_cli("train", "--method", "sac", "--db", str(tmp_path / "s.duckdb"))
    assert result.returncode == 2
    assert "Missing option '--ratio'" in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_output_path_is_one_error_line(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = run_cli("store", "export", "documents", "--out", str(blocker / "x.parquet"),
                     "--db", str(tmp_path / "s.duckdb"))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and str(blocker) in result.stderr
    assert "Traceback" not in result.stderr
