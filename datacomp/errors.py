"""The one exception type users see as a message rather than a traceback."""


class DatacompError(Exception):
    """A problem the user can fix: bad input, a missing file, a store from a newer version.

    The CLI prints ``str(error)`` and exits with status 2; set DATACOMP_DEBUG=1 for the traceback.
    Messages name the file, line, field or key at fault.
    """


def json_error_text(error, with_line: bool = False) -> str:
    """``Expecting value at column 9`` / ``... at line 2, column 9`` for a ``json.JSONDecodeError``. Some of
    json's messages already end in "at" ("Unterminated string starting at"): no second one then."""
    where = f"line {error.lineno}, column {error.colno}" if with_line else f"column {error.colno}"
    return f"{error.msg} {where}" if error.msg.endswith(" at") else f"{error.msg} at {where}"


class ConfigError(DatacompError):
    """A bad value in one field of a config dataclass, raised where the config is built (its __post_init__).

    ``message`` reads after the field's name ("must be positive, got 0"); another field it mentions is
    written ``{name}`` in the message and listed in ``others``. Each front end names fields in its own words
    through ``render``: the CLI as flags (``--token-budget must be positive, got 0``), a pipeline file as keys
    with their line; ``str(error)`` uses the Python field names. ``prefix`` is the field holding the config
    when it is nested in another (``shape`` for a PretrainConfig's ModelShape: ``shape.hidden``). ``many``:
    the field is a list that a command line fills by repeating its singular flag (``--corpus`` for
    ``corpora``; ``evaluate --baselines`` takes one comma-separated value and is not ``many``).
    """

    def __init__(self, field: str, message: str, others: tuple[str, ...] = (), prefix: str = "",
                 aliases: dict[str, str] | None = None, many: bool = False):
        self.field = field
        self.many = many
        self.message = message
        self.others = tuple(others)
        self.prefix = prefix
        self.aliases = dict(aliases or {})
        super().__init__(self.render(lambda name: name))

    def path(self, field: str | None = None) -> str:
        """The dotted name of ``field`` (default: the error's own) in the outermost config, aliases applied."""
        dotted = self.prefix + (self.field if field is None else field)
        return self.aliases.get(dotted, dotted)

    def render(self, name) -> str:
        """The message with every field it names written ``name(dotted field)``."""
        text = self.message
        for other in self.others:
            text = text.replace("{" + other + "}", name(self.path(other)))
        return f"{name(self.path())} {text}"

    def nested(self, prefix: str) -> "ConfigError":
        """The same error for a config held in field ``prefix`` of another (``shape.`` -> ``shape.hidden``)."""
        return ConfigError(self.field, self.message, self.others, prefix + self.prefix, self.aliases, self.many)

    def renamed(self, aliases: dict[str, str]) -> "ConfigError":
        """The same error where a front end gives fields other names (a pretrain stage's ``name`` is its
        key ``model_name``)."""
        return ConfigError(self.field, self.message, self.others, self.prefix, {**self.aliases, **aliases},
                           self.many)


def flag_name(field: str, many: bool = False) -> str:
    """The command-line flag of a config field, by the naming rule (README, "One name per concept"): the
    field with dashes (``token_budget`` -> ``--token-budget``; a nested field by its own name, ``shape.hidden``
    -> ``--hidden``), and a list field the singular of its name (``corpora`` -> ``--corpus``, ``baselines`` ->
    ``--baseline``)."""
    name = field.rsplit(".", 1)[-1]
    if many:
        name = "corpus" if name == "corpora" else name[:-3] + "y" if name.endswith("ies") else name.removesuffix("s")
    return "--" + name.replace("_", "-")


def command_line_text(error: ConfigError) -> str:
    """The error in the words of the command line: every field it names as its flag."""
    return error.render(lambda field: flag_name(field, error.many and field == error.path()))
