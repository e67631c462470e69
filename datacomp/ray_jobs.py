"""What the Ray engines of scoring and evaluation share: connecting to Ray, running a stateful actor over a
dataset into Parquet shards, and importing the shards into the store.

Ray Data does the scheduling: ``map_batches`` with a callable class on an actor pool of ``workers`` actors
(``compute=ActorPoolStrategy(size=workers)``, what ``concurrency=workers`` was before Ray 2.51; each actor
loads the models once, with ``num_gpus`` GPUs); Ray restarts an actor whose process dies and retries its batch
(``max_restarts``/``max_task_retries``, Ray Data's defaults for actor pools); ``write_parquet`` writes the
actors' rows as shard files (store/shards.py). The write tasks run on the driver's node, so the shards land
beside the store without a shared filesystem (the rows travel through Ray's object store), and the driver
imports them with the merge (store/merge.py): a row imported twice is skipped, never duplicated. Shards a
killed driver left behind are imported by the next run before it selects its work, so that run only does
what is missing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
import sys
from pathlib import Path
from typing import Any, Iterator

from datacomp.errors import DatacompError
from datacomp.store.merge import MergeSummary


@dataclasses.dataclass
class RayOptions:
    address: str | None = None     # a running cluster ("auto", "HOST:6379", "ray://HOST:10001"); None: start a
                                   # local instance for this run (a caller's instance, as in tests, is reused)
    workers: int = 2               # actors, each holding the models once
    gpus_per_worker: float = 0.0   # GPUs per actor; 0 runs on CPUs; a fraction shares a GPU between actors
    cpus_per_worker: float = 1.0   # CPUs (torch threads) per actor: enough to feed a GPU, one core on a CPU

    def validate(self) -> None:
        if self.workers < 1:
            raise DatacompError(f"--workers must be >= 1, got {self.workers}")
        if self.gpus_per_worker < 0:
            raise DatacompError(f"--gpus-per-worker must be >= 0, got {self.gpus_per_worker}")

    def as_config(self) -> dict[str, Any]:
        return {"engine": "ray", **dataclasses.asdict(self)}


def import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as error:
        raise DatacompError("--engine ray needs Ray Data: pip install 'datacomp[ray]' "
                            f"(or 'ray[data]'); {error}") from error
    return ray


@contextlib.contextmanager
def ray_session(options: RayOptions) -> Iterator[Any]:
    """Ray, connected: to ``options.address``, to an instance the caller already started, or to a local
    instance started here (``workers`` + 1 CPUs) and shut down at the end."""
    ray = import_ray()
    options.validate()
    from datacomp.progress import progress_enabled

    ray.data.DataContext.get_current().enable_progress_bars = progress_enabled()
    if ray.is_initialized():
        yield ray
        return
    kwargs = {"logging_level": logging.WARNING, "log_to_driver": True}
    if options.address:
        ray.init(address=options.address, **kwargs)
    else:
        # address="local": a new instance even when another one (`ray start`) runs on this machine
        ray.init(address="local", num_cpus=int(options.workers * options.cpus_per_worker) + 1,
                 include_dashboard=False, **kwargs)
    try:
        yield ray
    finally:
        ray.shutdown()


def shard_root(store, stage: str) -> Path:
    """Where a store's Ray runs of ``stage`` put their shards: ``<store>.shards/<stage>/<run_id>/``."""
    path = Path(store.path).resolve()
    return path.with_name(path.stem + ".shards") / stage


def import_run_shards(store, folder: Path, run) -> tuple[MergeSummary, list[str]]:
    """Import every shard below ``folder`` (a finished run's, or those a killed driver left) and delete the
    imported files; unreadable files (cut short by the kill) are deleted too, as their rows are not in the
    store and will be made again. Returns what was merged and warnings (refusals, unreadable files), which
    are also printed; counts go to ``run``."""
    from datacomp.store.merge import import_shards
    from datacomp.store.shards import shard_files

    if not folder.is_dir():
        return MergeSummary(), []
    with run.phase("import"):
        summary = import_shards(store, shard_files(folder), remove_imported=True)
    warnings = []
    for path, why in summary.unreadable.items():
        Path(path).unlink(missing_ok=True)
        warnings.append(f"shard {path} could not be read ({why}); its rows will be made again")
    warnings += [f"not imported: {line}" for line in summary.refusals()]
    for name, merged in summary.tables.items():
        run.count(f"imported_{name}_added", merged.added)
        run.count(f"imported_{name}_skipped", merged.skipped)
        if merged.refused:
            run.count(f"imported_{name}_refused", merged.refused)
    _remove_empty(folder, top=Path(store.path).resolve().parent)
    for message in warnings:
        print(f"warning: {message}", file=sys.stderr, flush=True)
    return summary, warnings


def _remove_empty(folder: Path, top: Path) -> None:
    """Empty folders below and above ``folder`` (up to ``top``): no clutter beside the store once imported."""
    for sub in sorted(folder.rglob("*"), reverse=True):
        if sub.is_dir() and not any(sub.iterdir()):
            sub.rmdir()
    while folder != top and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def run_actors(dataset, actor_class, constructor: dict[str, Any], options: RayOptions, batch_size: int,
               out_dir: Path) -> None:
    """``actor_class(**constructor)`` on ``options.workers`` actors over ``dataset`` in batches of
    ``batch_size`` rows (pyarrow tables in, shard tables out), written as Parquet into ``out_dir`` by tasks
    pinned to this node. A failure inside the actors becomes one DatacompError line."""
    ray = import_ray()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    rows = dataset.map_batches(actor_class, fn_constructor_kwargs=constructor, batch_size=batch_size,
                               batch_format="pyarrow", compute=ray.data.ActorPoolStrategy(size=options.workers),
                               num_cpus=options.cpus_per_worker, num_gpus=options.gpus_per_worker or None)
    try:
        # num_cpus=0: writing is I/O, and a head node often has no CPUs to offer to tasks
        rows.write_parquet(str(out_dir), ray_remote_args={"num_cpus": 0, "scheduling_strategy": here})
    except ray.exceptions.RayError as error:
        raise DatacompError(f"the Ray run failed: {_cause(error)}") from error


def _cause(error: BaseException) -> str:
    """The first line of the innermost user error behind Ray's wrappers."""
    seen = error
    while getattr(seen, "cause", None) is not None and seen.cause is not seen:
        seen = seen.cause
    while seen.__cause__ is not None:
        seen = seen.__cause__
    return (str(seen).strip().splitlines() or [type(seen).__name__])[0]
