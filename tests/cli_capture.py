"""Running the CLI in-process for tests: exit code, stdout, and stderr with rich's line wrapping undone."""

from __future__ import annotations


def run_main(capsys, *argv) -> tuple[int, str, str]:
    from datacomp.cli import main

    try:
        main(list(argv))
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, " ".join(captured.err.split())  # rich wraps long lines


def cli_output(capsys, *argv) -> str:
    """stdout of a command that must succeed (an error exits and fails the test)."""
    from datacomp.cli import main

    capsys.readouterr()
    main(list(argv))
    return capsys.readouterr().out
