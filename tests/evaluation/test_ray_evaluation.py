"""`evaluate --engine ray` on a local 2-worker Ray instance (tests/conftest.py): the rows of the in-process
evaluation, resuming from rows an earlier run stored, and a re-run adds nothing."""

from __future__ import annotations

import json
import math
import shutil

from cli_capture import run_main

from datacomp.store import open_store

TEXTS = [f"Story {i}: the {animal} walked to the market on Monday and bought {i + 2} green apples for an aunt "
         f"who lives nearby. It paid with coins and walked back along the river before the rain started. Later "
         f"that evening the {animal} met a friend at the station and talked about the strange weather of the "
         "last week: trains were late, the platform was crowded, and nobody knew when the next one would leave."
         for i, animal in enumerate(["fox", "dog", "cat", "owl", "hare", "wolf", "bear", "deer"])]
IGNORED = ("run_id", "created_at", "compress_ms", "decode_ms")   # who wrote a row, when, and how fast


def rows(path):
    with open_store(path, read_only=True) as store:
        cursor = store.con.execute("SELECT * FROM evaluations ORDER BY system, example_id")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r)) for r in cursor.fetchall()]


def test_ray_evaluation_gives_the_in_process_rows_resumes_and_a_rerun_adds_nothing(
        ray_local, store, tiny_lm_pair, tmp_path, capsys):
    for i, text in enumerate(TEXTS):
        store.con.execute("INSERT INTO documents (doc_id, corpus, domain, text, n_chars, n_bytes, source) "
                          "VALUES ($id, 'web', 'web', $t, 1, 1, 't')", {"id": f"d{i}", "t": text})
    in_process = str(store.path)
    store.close()
    encoder, decoder = tiny_lm_pair
    code, out, err = run_main(capsys, "train", "--method", "meanpool", "--ratio", "4", "--train-slice", "web",
                              "--encoder", str(encoder), "--decoder", str(decoder), "--steps", "2",
                              "--batch-size", "2", "--context-tokens", "64", "--db", in_process)
    assert code == 0, err
    compressor = out.strip().splitlines()[-1]
    on_ray = str(tmp_path / "ray.duckdb")
    shutil.copy(in_process, on_ray)
    evaluate = ["evaluate", "--compressor", compressor, "--slice", "web", "--task", "span-recall",
                "--max-new-tokens", "4", "--batch-size", "2", "--json"]

    code, out, err = run_main(capsys, *evaluate, "--limit", "8", "--db", in_process)
    assert code == 0, err
    reference = json.loads(out)
    code, out, err = run_main(capsys, *evaluate, "--limit", "3", "--db", on_ray)   # an earlier, partial run
    assert code == 0, err
    code, out, err = run_main(capsys, *evaluate, "--limit", "8", "--db", on_ray, "--engine", "ray", "--workers", "2")
    assert code == 0, err
    on_workers = json.loads(out)

    n_systems = len(reference["systems"])
    assert reference["n_examples"] == on_workers["n_examples"] == 8
    assert on_workers["n_rows_written"] == n_systems * (8 - 3)   # only what the partial run did not store
    assert on_workers["eval_id"] == reference["eval_id"]
    want, got = rows(in_process), rows(on_ray)
    assert [(r["system"], r["example_id"]) for r in got] == [(r["system"], r["example_id"]) for r in want]
    for mine, theirs in zip(got, want):
        for column, value in mine.items():
            if column in IGNORED:
                continue
            if isinstance(value, float):
                assert math.isclose(value, theirs[column], rel_tol=1e-5, abs_tol=1e-6), (column, mine, theirs)
            else:
                assert value == theirs[column], (column, mine["system"], mine["example_id"])
    for mine, theirs in zip(on_workers["systems"], reference["systems"]):
        assert mine["system"] == theirs["system"]
        assert mine["means"]["f1"] == theirs["means"]["f1"]
        assert math.isclose(mine["means"]["target_nll"], theirs["means"]["target_nll"], rel_tol=1e-6)
    with open_store(on_ray, read_only=True) as opened:
        (config,) = opened.con.execute("SELECT config FROM runs WHERE stage = 'evaluate' AND "
                                       "config LIKE '%\"ray\"%'").fetchone()
    assert json.loads(config)["ray"]["workers"] == 2

    code, out, err = run_main(capsys, *evaluate, "--limit", "8", "--db", on_ray, "--engine", "ray", "--workers", "2")
    assert code == 0, err
    assert json.loads(out)["n_rows_written"] == 0 and len(rows(on_ray)) == len(want)
