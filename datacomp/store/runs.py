"""Every stage runs inside ``record_run``: its config, seed, versions and timings land in ``runs``."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from typing import Any, Iterator

from datacomp.interrupts import is_interrupt
from datacomp.progress import heartbeat
from datacomp.store.db import Store
from datacomp.store.run_liveness import HEARTBEAT_SECONDS, this_host

_PACKAGES = ("datacomp", "torch", "transformers", "tokenizers", "peft", "datasets", "duckdb",
             "polars", "scipy", "statsmodels", "matplotlib", "numpy")


def environment() -> dict[str, Any]:
    """Python, platform, package versions and thread count: what it takes to explain a number later."""
    versions = {}
    for package in _PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "packages": versions,
    }
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        env["torch_threads"] = torch.get_num_threads()
        env["cuda"] = torch.cuda.is_available()
    return env


def to_jsonable(config: Any) -> Any:
    """Dataclasses, paths and tuples to plain JSON values (sorted keys make the hash stable)."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    return json.loads(json.dumps(config, default=str, sort_keys=True))


def file_hash(path) -> str:
    """16 hex of the SHA-256 of a file's bytes (a QA file's identity in compressor and evaluation ids)."""
    from datacomp.hashing import file_sha256

    return file_sha256(path)[:16]


def config_hash(config: Any) -> str:
    return hashlib.sha256(json.dumps(to_jsonable(config), sort_keys=True).encode()).hexdigest()[:16]


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclasses.dataclass
class Run:
    """A stage in progress: add timings with ``phase`` and counts with ``count``."""

    run_id: str
    stage: str
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    counts: dict[str, Any] = dataclasses.field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start

    def count(self, name: str, n: int | float = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


@contextmanager
def record_run(store: Store, stage: str, config: Any, seed: int | None = None) -> Iterator[Run]:
    """Insert a ``running`` row (with this process's pid and host), yield the Run, then mark it finished,
    interrupted (SIGINT, SIGTERM, Ctrl-C) or failed (with the error). While it runs, its progress bars stamp
    the row's heartbeat; a process killed outright leaves 'running', which run_liveness shows as 'died'."""
    run = Run(run_id=f"{stage}-{_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}", stage=stage)
    jsonable = to_jsonable(config)
    store.run("runs/start", {
        "run_id": run.run_id, "stage": stage, "config": json.dumps(jsonable),
        "config_hash": config_hash(jsonable), "seed": seed, "started_at": _now(),
        "environment": json.dumps(environment()), "pid": os.getpid(), "host": this_host(),
    })
    start = time.perf_counter()
    status, error = "finished", None
    beat = lambda: store.run("runs/heartbeat", {"run_id": run.run_id, "heartbeat_at": _now()})  # noqa: E731
    try:
        with heartbeat(beat, HEARTBEAT_SECONDS):
            yield run
    except BaseException as exc:  # interrupts too, then re-raise
        status = "interrupted" if is_interrupt(exc) else "failed"
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        run.timings["total"] = time.perf_counter() - start
        store.run("runs/finish", {
            "run_id": run.run_id, "status": status, "finished_at": _now(),
            "timings": json.dumps(run.timings), "counts": json.dumps(to_jsonable(run.counts)),
            "error": error,
        })
