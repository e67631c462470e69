"""Old flag spellings, kept for one release after a rename so that scripts keep working.

One name per concept across flags and pipeline keys: a flag is its key with dashes (``--learning-rate`` is
``learning_rate``), and a repeatable flag is the singular of its list key (``--corpus`` fills ``corpora``,
``--param`` fills ``params``). The flags renamed to get there are rewritten here, before typer parses the
command line, with a one-line warning naming the new spelling. Delete an entry when its release is over.
"""

from __future__ import annotations

from typing import Callable

# command path -> {old flag: new flag}
DEPRECATED_FLAGS: dict[tuple[str, ...], dict[str, str]] = {
    ("pretrain",): {"--lr": "--learning-rate", "--name": "--model-name", "--precision": "--dtype"},
    ("models", "add"): {"--name": "--model-name"},
    ("slice", "create"): {"--from": "--definition"},
    ("train",): {"--set": "--method-config"},
    ("corpora", "prepare"): {"--cache": "--cache-dir"},
}


def rewrite(argv: list[str], warn: Callable[[str], None]) -> list[str]:
    """``argv`` with every deprecated flag of its command replaced by the new one (``--old=v`` too);
    ``warn`` gets one line per old spelling used."""
    for path, renames in DEPRECATED_FLAGS.items():
        if tuple(argv[:len(path)]) != path:
            continue
        head, tail = list(argv[:len(path)]), []
        warned: set[str] = set()
        for position, token in enumerate(argv[len(path):]):
            if token == "--":  # everything after it is a value
                tail.extend(argv[len(path) + position:])
                break
            old, equals, value = token.partition("=")
            if old in renames:
                if old not in warned:
                    warn(f"{old} is deprecated: use {renames[old]} (the old spelling goes in the next release)")
                    warned.add(old)
                token = renames[old] + equals + value
            tail.append(token)
        return head + tail
    return list(argv)
