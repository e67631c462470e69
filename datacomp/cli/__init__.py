"""The `datacomp` command: a thin layer over the library, one module per stage.

Each module in ``COMMAND_MODULES`` defines its commands on ``app`` (or a sub-app it adds), and keeps
heavy imports (torch, transformers) inside the command functions so `datacomp --help` stays fast.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

from datacomp.cli.common import app, console_err
from datacomp.errors import ConfigError, DatacompError, command_line_text

COMMAND_MODULES = [
    "datacomp.cli.store_cmd",
    "datacomp.cli.ingest_cmd",
    "datacomp.cli.corpora_cmd",
    "datacomp.cli.models_cmd",
    "datacomp.cli.score_cmd",
    "datacomp.cli.curation_cmd",
    "datacomp.cli.compress_cmd",
    "datacomp.cli.report_cmd",
    "datacomp.cli.run_cmd",
]

for _module in COMMAND_MODULES:
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as _error:  # a stage not built yet: the others still work
        if _error.name != _module:
            raise


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one clear line on stderr and exit status 2; SIGINT / SIGTERM one line
    saying where the work stopped and exit 130 / 143 (datacomp.interrupts says why they are not left to typer)."""
    from datacomp.cli.aliases import rewrite
    from datacomp.interrupts import Interrupted, signals_raise_interrupted

    argv = rewrite(sys.argv[1:] if argv is None else list(argv), warn=lambda line: _print_error("warning:", line))
    try:
        with signals_raise_interrupted():
            command()(args=argv, standalone_mode=False)
    except Interrupted as interrupt:
        from rich.markup import escape

        console_err.print(f"[yellow]{escape(interrupted_line(interrupt, argv))}[/]", highlight=False)
        sys.exit(interrupt.exit_code)
    except DatacompError as error:
        if os.environ.get("DATACOMP_DEBUG"):
            raise
        _print_error("error:", command_line_text(error) if isinstance(error, ConfigError) else str(error))
        sys.exit(2)
    except KeyboardInterrupt:
        console_err.print("[yellow]interrupted[/]")
        sys.exit(130)
    except SystemExit:
        raise
    except OSError as error:  # an output path that cannot be written, a disk that is full...
        if os.environ.get("DATACOMP_DEBUG"):
            raise
        _print_error("error:", str(error))
        sys.exit(2)
    except Exception as error:  # usage errors arrive here in non-standalone mode
        exceptions = _click_exceptions()
        if isinstance(error, exceptions.ClickException):
            error.show()
            sys.exit(error.exit_code)
        if isinstance(error, getattr(exceptions, "Abort", ())):  # typer's bundled click has no Abort
            sys.exit(1)
        if os.environ.get("DATACOMP_DEBUG"):
            raise
        # a bug, not a user error: one line naming it, the traceback on request
        first_line = (str(error).strip().splitlines() or [""])[0]
        _print_error("internal error:", f"{type(error).__name__}: {first_line} (run again with DATACOMP_DEBUG=1 "
                     "for the traceback, and please report it)")
        sys.exit(1)


# Commands whose re-run picks up where an interrupted run stopped (stored rows are skipped, training resumes
# from its last checkpoint, a pipeline skips its finished stages); the others start again from the top.
RESUMING_COMMANDS = {"score", "train", "evaluate", "run"}


def interrupted_line(interrupt, argv: list[str]) -> str:
    """'interrupted at 105/3000 docs; re-run the same command to resume' (SIGTERM says so; a command that does
    not resume says that instead)."""
    name = _command_name(argv)
    by = "" if interrupt.signum == signal.SIGINT else f" by {signal.Signals(interrupt.signum).name}"
    at = f" at {interrupt.position}" if interrupt.position else ""
    then = ("re-run the same command to resume" if name in RESUMING_COMMANDS
            else f"{name or 'this command'} does not resume: re-run it to start again")
    return f"interrupted{by}{at}; {then}"


def _command_name(argv: list[str]) -> str:
    """The command's words in ``argv`` ('score', 'models copy-test'), found by walking the command tree."""
    tree, names = command(), []
    for word in (arg for arg in argv if not arg.startswith("-")):
        sub = getattr(tree, "commands", {}).get(word)
        if sub is None:
            break
        names.append(word)
        tree = sub
    return " ".join(names)


def command():
    """The click command tree typer builds from ``app``, with conventional help (help_text.tidy)."""
    import typer

    from datacomp.cli.help_text import tidy

    return tidy(typer.main.get_command(app))


def _print_error(label: str, message: str) -> None:
    """``label message`` on stderr; the message is printed literally (brackets in paths are not markup)."""
    from rich.markup import escape

    colour = "yellow" if label == "warning:" else "bold red"
    console_err.print(f"[{colour}]{label}[/] {escape(message)}", highlight=False)


def _click_exceptions():
    """typer >= 0.2x bundles its own click as ``typer._click``; older typer uses the click package."""
    try:
        from typer._click import exceptions
    except ImportError:
        from click import exceptions
    return exceptions
