"""Stage types: a config dataclass plus a plain function, registered under a name.

    STAGES["score"] = StageType(ScoreStageConfig, run_score, "score documents under models")

``run(ctx, config) -> dict | None`` does the work through the library and returns the stage's outputs
(JSON values). Another stage refers to them as ``"@stage"`` (the ``ref`` output, or the only one) or
``"@stage.key"``; the runner substitutes the values before calling ``run``. ``check(config, problem)``
is optional: it validates the config when the file is read and reports a bad key through
``problem(key, message)``, so that mistakes surface before anything runs. ``fingerprint(config)`` is
optional too: JSON-able facts outside the file that the stage's result depends on (the text of a
slice definition), hashed with the config so that editing them re-runs the stage.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

from datacomp.store import Store


@dataclasses.dataclass
class StageContext:
    """What a stage function gets besides its config."""

    store: Store
    pipeline: str
    stage: str                              # this stage's name in the pipeline file
    out_dir: Path                           # the pipeline's output folder; stages write below it
    outputs: dict[str, dict[str, Any]]      # outputs of every stage finished so far, by stage name

    @property
    def stage_dir(self) -> Path:
        """out_dir/<stage name>: a folder of this stage's own (created on first use)."""
        path = self.out_dir / self.stage
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclasses.dataclass(frozen=True)
class StageType:
    """``config_class`` is a dataclass, or a function returning one (imported only when a pipeline
    uses the type, so a curation pipeline never loads torch)."""

    config_class: type | Callable[[], type]
    run: Callable[[StageContext, Any], dict[str, Any] | None]
    description: str = ""
    check: Callable[[Any, Callable[[str, str], Exception]], None] | None = None
    fingerprint: Callable[[Any], Any] | None = None   # inputs outside the file (e.g. a .sql file's hash)

    @property
    def config_type(self) -> type:
        if dataclasses.is_dataclass(self.config_class):
            return self.config_class
        return self.config_class()


STAGES: dict[str, StageType] = {}
