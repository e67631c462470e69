"""Help that reads like a conventional command line, applied once to the whole click tree typer builds.

typer's rich help has four habits a newcomer trips over; ``tidy(command)`` undoes them for every command
(including ones added later) instead of asking each option to work around them:

- help text is parsed as rich markup, so "[default: window/2]" written in an option's help vanishes:
  help texts are escaped (they are plain text here, never markup);
- a Python type follows every flag (``<bool>``, ``<list[str]>``): flags get no metavar, other options a
  conventional one by type (``N``, ``X``, ``TEXT``, ``PATH``) unless they name their own (``SLICE``, ``MODEL``);
- arguments are lower-case and wrapped in braces in the usage line (``{paths}...``): they become upper-case
  (``PATH...``) and the usage line reads ``datacomp ingest [OPTIONS] PATH...``;
- the command list keeps the line breaks of a docstring's first paragraph: each command's summary is that
  paragraph on one line.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, Iterator

from rich.markup import escape
from typer.core import TyperArgument

# metavars by value type, for options that do not name their own
TYPE_METAVARS = {int: "N", float: "X", Path: "PATH", str: "TEXT"}
CLICK_TYPE_METAVARS = {"integer": "N", "float": "X", "path": "PATH", "text": "TEXT"}  # typer versions with click types


class ConventionalArgument(TyperArgument):
    """An argument shown by its metavar alone: ``PATH...`` in the usage line and the arguments panel."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the metavar says what it is; no <list[str]> beside it

    def _rich_display_name(self) -> str:
        return self.metavar or self.name.upper()

    def _usage_display_name(self) -> str:
        name = self.metavar or self.name.upper()
        return name if self.required else f"[{name}]"

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        return [self._usage_display_name()]


def walk(command: Any) -> Iterator[Any]:
    """The command and every sub-command below it."""
    yield command
    for child in getattr(command, "commands", {}).values():
        yield from walk(child)


def summary(help_text: str | None) -> str:
    """The first paragraph of a help text on one line (what the command list shows)."""
    first = (help_text or "").strip().split("\n\n")[0]
    return " ".join(first.split())


def value_type(param: Any) -> Any:
    """The type of one value of ``param``: ``Optional[list[int]]`` -> int."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None:
        return None
    annotation = descriptor.annotation
    while typing.get_origin(annotation) in (typing.Union, types.UnionType, list, tuple):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    return annotation


def option_metavar(param: Any) -> str:
    if getattr(param, "is_flag", False):
        return ""  # a switch takes no value: nothing to show after it
    kind = value_type(param)
    if kind is None:  # an older typer: click types
        return CLICK_TYPE_METAVARS.get(getattr(getattr(param, "type", None), "name", ""), "TEXT")
    return TYPE_METAVARS.get(kind, "TEXT")


def argument_metavar(param: Any) -> str:
    name = param.name.upper()
    if name.endswith("S") and param.nargs != 1:
        name = name[:-1]  # paths -> PATH...
    return name + ("..." if param.nargs != 1 else "")


def tidy(command: Any) -> Any:
    """Apply the conventions above to ``command`` and everything below it; returns it."""
    help_names = (command.context_settings or {}).get("help_option_names", ["--help"])
    for node in walk(command):
        help_option = node.get_help_option(node.context_class(node, help_option_names=help_names))
        if help_option is not None:  # made on demand by click (and cached): -h/--help is a switch too
            help_option.metavar = ""
        if node.help:
            node.help = escape(node.help)
        node.short_help = summary(node.help)
        for param in node.params:
            if getattr(param, "help", None):
                param.help = escape(param.help)
            if isinstance(param, TyperArgument):
                param.__class__ = ConventionalArgument  # same state, conventional display
                param.metavar = param.metavar or argument_metavar(param)
            elif param.metavar is None or getattr(param, "is_flag", False):
                param.metavar = option_metavar(param)
    return command
