"""Renamed flags: the old spelling still works for one release, with a one-line warning naming the new one."""

from __future__ import annotations

import pytest
from cli_capture import run_main

from datacomp.cli.aliases import DEPRECATED_FLAGS


def test_rewrite_maps_each_old_flag_of_its_command_only():
    from datacomp.cli.aliases import rewrite

    warnings: list[str] = []
    argv = ["pretrain", "--name", "enc", "--lr=0.02", "--mixture", "code=1", "--lr", "0.03"]
    assert rewrite(argv, warnings.append) == ["pretrain", "--model-name", "enc", "--learning-rate=0.02", "--mixture",
                                              "code=1", "--learning-rate", "0.03"]
    assert warnings == ["--name is deprecated: use --model-name (the old spelling goes in the next release)",
                        "--lr is deprecated: use --learning-rate (the old spelling goes in the next release)"]
    warnings.clear()
    assert rewrite(["curriculum", "s", "--name", "c"], warnings.append) == ["curriculum", "s", "--name", "c"]
    assert rewrite(["slice", "create", "x", "--", "--from"], warnings.append) == ["slice", "create", "x", "--",
                                                                                   "--from"]
    assert warnings == []


@pytest.mark.parametrize("path, old, new", [(path, old, new) for path, renames in DEPRECATED_FLAGS.items()
                                             for old, new in renames.items()])
def test_every_new_spelling_exists_and_every_old_one_is_gone(path, old, new):
    from datacomp.cli import command

    node = command()
    for name in path:
        node = node.commands[name]
    options = {opt for param in node.params for opt in getattr(param, "opts", [])}
    assert new in options and old not in options, (path, old, new)


def test_old_spelling_still_works_with_a_warning(capsys, tmp_path):
    from datacomp.store import open_store

    db = tmp_path / "s.duckdb"
    with open_store(db) as store:
        store.run("models/insert_fixture_document", {
            "doc_id": "d1", "corpus": "web", "domain": "web", "text": "hello", "n_chars": 5, "n_bytes": 5,
            "source": "fixture:0"})
    code, out, err = run_main(capsys, "slice", "create", "all", "--from", "corpus", "-p", "corpora=web", "--db",
                              str(db), "--json")
    assert code == 0, err
    assert err == "warning: --from is deprecated: use --definition (the old spelling goes in the next release)"
    assert '"n_members": 1' in out
