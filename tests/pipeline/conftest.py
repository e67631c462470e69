"""Cheap fake stage types registered for the runner tests: they record their calls and echo inputs."""

from __future__ import annotations

import dataclasses

import pytest

from datacomp.errors import DatacompError
from datacomp.pipeline.builtin import stage_types
from datacomp.pipeline.registry import STAGES, StageType


@dataclasses.dataclass
class FakeConfig:
    value: int = 0
    input: str | None = None
    ratio: float = 1.0
    tags: list[str] = dataclasses.field(default_factory=list)
    fail: bool = False


@pytest.fixture
def calls(monkeypatch):
    """The stage names the fake stages ran, in order."""
    log: list[str] = []

    def run_fake(ctx, config: FakeConfig):
        log.append(ctx.stage)
        if config.fail:
            raise DatacompError("the fake stage was told to fail")
        return {"ref": f"{ctx.stage}={config.value}<{config.input}>", "value": config.value}

    stage_types()  # built-ins first, then the fake on top
    monkeypatch.setitem(STAGES, "fake", StageType(FakeConfig, run_fake, "a test stage"))
    return log
