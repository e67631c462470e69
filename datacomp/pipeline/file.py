"""Reading a pipeline file (TOML): the [pipeline] table and a list of [[stage]] tables.

    [pipeline]
    name = "quickstart"
    db = "out/quickstart/datacomp.duckdb"    # optional; --db overrides; default $DATACOMP_DB
    out = "out/quickstart"                   # optional; default: the folder of the db file

    [[stage]]
    name = "low_entropy"
    type = "slice"
    after = ["score"]                        # default: the stage before it in the file
    definition = "score_quantile"
    params = { model = "@pretrain_enc", hi = 0.25 }

Every key is checked against the stage type's config dataclass; every error names the file and line
of the offending key. A string ``"@stage"`` / ``"@stage.key"`` refers to another stage's output and
makes this stage depend on it. Stages are returned in an order where each follows its dependencies
(file order among independent stages).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any, Callable

from datacomp.errors import ConfigError, DatacompError
from datacomp.pipeline.builtin import stage_types
from datacomp.pipeline.references import references
from datacomp.pipeline.registry import StageType
from datacomp.pipeline.typed import build, config_error_text

RESERVED = ("name", "type", "after")
# Keys renamed so that a key and its flag are one name: the old spelling is read for one release, with a
# warning naming the new one. stage type -> {old key: new key}
DEPRECATED_KEYS: dict[str, dict[str, str]] = {"pretrain": {"precision": "dtype"}}
PIPELINE_KEYS = ("name", "db", "out", "description")
_STAGE_HEADER = re.compile(r"^\s*\[\[\s*stage\s*\]\]\s*(#.*)?$")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_TOML_LINE = re.compile(r"at line (\d+)")


@dataclasses.dataclass
class StageSpec:
    name: str
    type: str
    after: list[str]              # every stage this one depends on: explicit `after` plus @references
    config: Any                   # the stage type's config dataclass, references still unresolved
    index: int                    # position in the file
    line: int                     # line of its [[stage]] header
    edge_keys: dict[str, str] = dataclasses.field(default_factory=dict)  # dependency -> key that made it
    where: Callable[[str], str] | None = None  # key -> "file:line" of that key in this stage (errors)


@dataclasses.dataclass
class Pipeline:
    path: Path
    name: str
    db: Path | None
    out: Path | None
    description: str
    stages: list[StageSpec]       # dependencies first
    warnings: list[str] = dataclasses.field(default_factory=list)  # "file:line: ..." (deprecated keys)

    def stage(self, name: str) -> StageSpec:
        return next(s for s in self.stages if s.name == name)


class Locator:
    """Finds the line of a key in the file text (tomllib reports no positions for valid files)."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.lines = text.splitlines()
        self.pipeline_block: tuple[int, int] | None = None
        self.stage_blocks: list[tuple[int, int]] = []
        self.top_block = (0, len(self.lines))
        starts: list[tuple[str, int]] = []
        for number, line in enumerate(self.lines):
            if _STAGE_HEADER.match(line):
                starts.append(("stage", number))
            elif (match := _TABLE_HEADER.match(line)) and not match.group(1).startswith("stage."):
                starts.append((match.group(1), number))
        if starts:
            self.top_block = (0, starts[0][1])
        for i, (kind, start) in enumerate(starts):
            end = starts[i + 1][1] if i + 1 < len(starts) else len(self.lines)
            if kind == "stage":
                self.stage_blocks.append((start, end))
            elif kind == "pipeline":
                self.pipeline_block = (start, end)

    def where(self, line_index: int) -> str:
        return f"{self.path}:{line_index + 1}"

    def find(self, block: tuple[int, int], key: str = "") -> int:
        """0-based line of dotted ``key`` within ``block``, else the block's first line."""
        start, end = block
        line = start
        for part in [p for p in key.split(".") if p]:
            part = re.sub(r"\[\d+\]$", "", part)
            pattern = re.compile(rf'(^|[{{,\s])("{re.escape(part)}"|{re.escape(part)})\s*=|^\s*\[[^\]]*\b{re.escape(part)}\s*\]')
            found = next((n for n in range(line, end) if pattern.search(self.lines[n].split("#", 1)[0])), None)
            if found is None:
                break
            line = found
        return line

    def stage_key(self, index: int, key: str = "") -> str:
        block = self.stage_blocks[index] if index < len(self.stage_blocks) else self.top_block
        return self.where(self.find(block, key))

    def pipeline_key(self, key: str = "") -> str:
        return self.where(self.find(self.pipeline_block or self.top_block, key))


def load_pipeline(path: str | Path) -> Pipeline:
    path = Path(path)
    if not path.is_file():
        raise DatacompError(f"pipeline file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = _TOML_LINE.search(str(error))
        line = match.group(1) if match else "?"
        raise DatacompError(f"{path}:{line}: invalid TOML: {error}") from None
    locator = Locator(path, text)
    registry = stage_types()

    for key in data:
        if key not in ("pipeline", "stage"):
            raise DatacompError(f"{locator.where(locator.find((0, len(locator.lines)), key))}: unknown top-level key "
                                f"'{key}' (known: [pipeline], [[stage]])")
    header = data.get("pipeline", {})
    if not isinstance(header, dict):
        raise DatacompError(f"{locator.pipeline_key('pipeline')}: 'pipeline' must be a table ([pipeline])")
    for key, value in header.items():
        if key not in PIPELINE_KEYS:
            raise DatacompError(f"{locator.pipeline_key(key)}: [pipeline]: unknown key '{key}' "
                                f"(known: {', '.join(PIPELINE_KEYS)})")
        if not isinstance(value, str) or not value:
            raise DatacompError(f"{locator.pipeline_key(key)}: [pipeline]: key '{key}': expected a non-empty "
                                f"string, got {value!r}")
    raw_stages = data.get("stage", [])
    if not isinstance(raw_stages, list) or not raw_stages:
        raise DatacompError(f"{path}: no stages: add [[stage]] tables with a name and a type")

    names: dict[str, int] = {}
    for index, raw in enumerate(raw_stages):
        where = lambda key="", i=index: locator.stage_key(i, key)  # noqa: E731
        for key in ("name", "type"):
            if not isinstance(raw.get(key), str) or not raw.get(key):
                raise DatacompError(f"{where(key)}: stage {index + 1}: key '{key}' must be a non-empty string"
                                    + (f", got {raw[key]!r}" if key in raw else " (missing)"))
        name = raw["name"]
        if not re.match(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$", name):
            raise DatacompError(f"{where('name')}: stage name {name!r}: use letters, digits, _ and -")
        if name in names:
            raise DatacompError(f"{where('name')}: stage name '{name}' is used twice "
                                f"(first at {locator.stage_key(names[name], 'name')})")
        names[name] = index

    stages: list[StageSpec] = []
    warnings: list[str] = []
    problems: list[str] = []   # every stage is read: the file's mistakes are reported together
    for index, raw in enumerate(raw_stages):
        try:
            stages.append(read_stage(index, raw, raw_stages, names, registry, locator, warnings))
        except DatacompError as error:
            problems.append(str(error))
    if problems:
        raise DatacompError("\n".join(problems))

    ordered = order_stages(stages, locator)
    return Pipeline(path=path, name=header.get("name") or path.stem,
                    db=Path(header["db"]) if "db" in header else None,
                    out=Path(header["out"]) if "out" in header else None,
                    description=header.get("description", ""), stages=ordered, warnings=warnings)



def read_stage(index: int, raw: dict[str, Any], raw_stages: list[dict[str, Any]], names: dict[str, int],
               registry: dict[str, StageType], locator: Locator, warnings: list[str]) -> StageSpec:
    """Stage ``index`` of the file: its config built and checked (by its dataclass and its type's check);
    a DatacompError names the file, line and key of every mistake found in it."""
    name = raw["name"]

    def where(key: str = "") -> str:
        return locator.stage_key(index, key)

    stage_type: StageType | None = registry.get(raw["type"])
    if stage_type is None:
        raise DatacompError(f"{where('type')}: stage '{name}': unknown stage type '{raw['type']}' "
                            f"(known: {', '.join(sorted(registry))})")
    if "after" in raw:
        after = raw["after"]
        after = [after] if isinstance(after, str) else after
        if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
            raise DatacompError(f"{where('after')}: stage '{name}': 'after' must be a list of stage names, "
                                f"got {raw['after']!r}")
        for dependency in after:
            if dependency not in names:
                raise DatacompError(f"{where('after')}: stage '{name}': after = '{dependency}' is not a stage "
                                    f"of this pipeline (stages: {', '.join(names)})")
            if dependency == name:
                raise DatacompError(f"{where('after')}: stage '{name}' cannot run after itself")
    else:
        after = [raw_stages[index - 1]["name"]] if index > 0 else []
    edge_keys = {dependency: "after" for dependency in after}
    values = {k: v for k, v in raw.items() if k not in RESERVED}
    for old, new in DEPRECATED_KEYS.get(raw["type"], {}).items():
        if old not in values:
            continue
        if new in values:
            raise DatacompError(f"{where(old)}: stage '{name}': '{old}' is the old spelling of '{new}': keep one")
        warnings.append(f"{where(old)}: stage '{name}': key '{old}' is deprecated: use '{new}' (the old "
                        "spelling goes in the next release)")
        values[new] = values.pop(old)
    try:
        config_type = stage_type.config_type
    except ImportError as error:
        raise DatacompError(f"{where('type')}: stage '{name}': stage type '{raw['type']}' is unavailable "
                            f"in this installation ({error})") from error
    config = build(config_type, values, locate=where, context=f"stage '{name}': ")
    for key, value in values.items():
        for target, _ in references(value):
            if target not in names:
                raise DatacompError(f"{where(key)}: stage '{name}': '@{target}' refers to no stage of this "
                                    f"pipeline (stages: {', '.join(names)})")
            if target == name:
                raise DatacompError(f"{where(key)}: stage '{name}' refers to its own output '@{target}'")
            if target not in after:
                after = [*after, target]
                edge_keys[target] = key
    if stage_type.check is not None:
        def problem(key: str, message: str) -> DatacompError:
            return DatacompError(f"{where(key)}: stage '{name}': {message}")
        try:
            stage_type.check(config, problem)
        except ConfigError as error:
            raise DatacompError(config_error_text(error, config_type, where, f"stage '{name}': ")) from None
        except DatacompError as error:
            if str(error).startswith(f"{locator.path}:"):
                raise
            raise DatacompError(f"{where()}: stage '{name}': {error}") from None
    return StageSpec(name=name, type=raw["type"], after=list(dict.fromkeys(after)), config=config,
                     index=index, line=int(locator.stage_key(index).rsplit(":", 1)[1]),
                     edge_keys=edge_keys, where=where)


def order_stages(stages: list[StageSpec], locator: Locator) -> list[StageSpec]:
    """Dependencies first, file order otherwise; a cycle is an error naming it and its line."""
    by_name = {s.name: s for s in stages}
    state: dict[str, str] = {}   # visiting / done
    ordered: list[StageSpec] = []

    def visit(stage: StageSpec, trail: list[str]) -> None:
        if state.get(stage.name) == "done":
            return
        if state.get(stage.name) == "visiting":
            cycle = trail[trail.index(stage.name):] + [stage.name]
            first = by_name[cycle[0]]
            key = first.edge_keys.get(cycle[1], "after")
            raise DatacompError(f"{locator.stage_key(first.index, key)}: stage '{first.name}': dependency "
                                f"cycle {' -> '.join(cycle)} (check 'after' and '@' references)")
        state[stage.name] = "visiting"
        for dependency in stage.after:
            visit(by_name[dependency], trail + [stage.name])
        state[stage.name] = "done"
        ordered.append(stage)

    for stage in stages:
        visit(stage, [])
    return ordered
