"""Options the commands share: --threads means the same for score, train and evaluate."""

from __future__ import annotations

import pytest
from cli_capture import run_main

from datacomp import api
from datacomp.errors import DatacompError

COMMANDS = {
    "score": ["score", "--corpus", "web", "--model", "m"],
    "train": ["train", "--method", "autoencoder", "--ratio", "4", "--train-slice", "s", "--encoder", "m",
              "--decoder", "m"],
    "evaluate": ["evaluate", "--compressor", "c", "--slice", "s"],
}


@pytest.mark.parametrize("function", list(COMMANDS))
def test_threads_sets_torch_threads_before_the_work_starts(capsys, monkeypatch, tmp_path, function):
    import torch

    db = tmp_path / "s.duckdb"
    api.open_store(db).close()
    seen = []

    def record(*args, **kwargs):
        seen.append(torch.get_num_threads())
        raise DatacompError("stopped here")

    monkeypatch.setattr(api, function, record)
    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    try:
        code, _, err = run_main(capsys, *COMMANDS[function], "--threads", str(target), "--db", str(db))
    finally:
        torch.set_num_threads(before)
    assert (code, err, seen) == (2, "error: stopped here", [target])


def test_threads_has_one_help_text_on_every_command(capsys):
    helps = set()
    for argv in COMMANDS.values():
        code, out, _ = run_main(capsys, argv[0], "--help")
        assert code == 0
        text = " ".join(out.replace("│", " ").split())
        start = text.index("--threads")
        helps.add(text[start:text.index("[default: torch's]", start)])
    assert helps == {"--threads N torch CPU threads (on a busy machine 1 can be several times faster) "}
