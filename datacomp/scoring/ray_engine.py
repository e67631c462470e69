"""`datacomp score --engine ray`: the scoring engine of engine.py on Ray actors (ray_jobs.py says how Ray is
used).

The driver plans the run as the in-process engine does (plan.py), imports shards a killed earlier run left,
selects the documents still to score and hands their texts to Ray Data. Each actor loads the models once,
checks that its model folders hold the weights the store registered, and scores its blocks with
``engine.score_block``, the same batching, windows and arithmetic as in-process; the rows of a block
(keyed by doc_id, model ids, window, stride, dtype) become one shard table. The driver imports the shards
and checks that every selected document now has all its rows: none lost, none duplicated.
"""

from __future__ import annotations

import math
import time
from typing import Any

from datacomp.errors import DatacompError
from datacomp.ray_jobs import RayOptions, import_run_shards, ray_session, run_actors, shard_root
from datacomp.scoring.config import ScoreConfig, ScoreSummary
from datacomp.scoring.engine import count_summary, documents_to_score, new_summary
from datacomp.scoring.plan import ScoringPlan, plan_scoring, select_documents
from datacomp.store import Store
from datacomp.store.runs import Run, record_run

BLOCKS_PER_WORKER = 4   # at least this many blocks per actor, so a slow or restarted actor does not hold the tail


class ScoringActor:
    """One Ray actor: the models, loaded once, and ``engine.score_block`` over each block it is handed."""

    def __init__(self, plan: ScoringPlan, config: ScoreConfig, run_id: str, schema, threads: int):
        import torch

        from datacomp.scoring.engine import load_lanes

        torch.set_num_threads(max(1, threads))
        for record in plan.records:
            check_weights(record)
        self.plan, self.config, self.schema = plan, config, schema
        self.key = plan.key(run_id)
        self.lanes = load_lanes(plan.records, plan.dtype)

    def __call__(self, batch):
        from datacomp.scoring.engine import score_block
        from datacomp.store.shards import shard_table

        block = list(zip(batch.column("doc_id").to_pylist(), batch.column("text").to_pylist()))
        rows: dict[str, list[dict[str, Any]]] = {"scores": [], "gaps": []}

        def sink(scores, gaps):
            rows["scores"].extend(scores)
            rows["gaps"].extend(gaps)

        summary = new_summary(self.key["run_id"], self.plan)
        score_block(block, self.lanes, self.plan, self.key, self.config, summary, Run("actor", "score"),
                    _Silent(), time.perf_counter(), sink)
        return shard_table(rows, self.schema)


class _Silent:
    """An actor's progress bar: the driver shows Ray Data's, counted in documents."""

    def advance(self, n: float = 1, **info: Any) -> None:
        pass


def check_weights(record) -> None:
    """The folder on this node must hold the weights the store registered under ``record.model_id``."""
    import socket
    from pathlib import Path

    from datacomp.models.registry import weights_hash

    folder = Path(record.path)
    if not folder.is_dir():
        raise DatacompError(f"model folder {folder} of {record.model_id} is not on Ray node {socket.gethostname()}: "
                            "put the models where every node sees them at the same path")
    if record.revision and weights_hash(folder) != record.revision:
        raise DatacompError(f"model folder {folder} on Ray node {socket.gethostname()} does not hold the weights "
                            f"registered as {record.model_id}")


def score_corpus_ray(store: Store, config: ScoreConfig, options: RayOptions) -> ScoreSummary:
    """Score the configured corpora on Ray actors; same rows, same resumption as ``engine.score_corpus``."""
    import pyarrow as pa

    from datacomp.store.shards import shard_schema

    options.validate()
    plan = plan_scoring(store, config)
    root = shard_root(store, "score")
    with record_run(store, "score", {**plan.resolved, "ray": options.as_config()}) as run:
        summary = new_summary(run.run_id, plan)
        summary.warnings += import_run_shards(store, root, run)[1]   # what a killed driver's actors finished
        todo = documents_to_score(store, config, plan, summary, run)
        if todo:
            start, start_cpu = time.perf_counter(), time.process_time()
            with ray_session(options) as ray:
                # one Ray block per actor call: Ray Data hands an actor whole blocks, so blocks are the unit of
                # parallelism (and the engine's unit of length-sorting)
                batch = max(1, min(config.block_docs, math.ceil(len(todo) / (BLOCKS_PER_WORKER * options.workers))))
                with run.phase("read"):
                    blocks = [pa.Table.from_pylist(store.rows("scoring/doc_texts", {"doc_ids": todo[lo: lo + batch]}))
                              for lo in range(0, len(todo), batch)]
                dataset = ray.data.from_arrow(blocks)
                constructor = {"plan": plan, "config": config, "run_id": run.run_id,
                               "schema": shard_schema(store, ["scores", "gaps"]),
                               "threads": int(options.cpus_per_worker)}
                with run.phase("ray"):
                    run_actors(dataset, ScoringActor, constructor, options, batch, root / run.run_id)
            summary.warnings += import_run_shards(store, root / run.run_id, run)[1]
            summary.seconds = time.perf_counter() - start
            summary.cpu_seconds = time.process_time() - start_cpu   # the driver's: the actors' is their own
        finish_summary(store, config, plan, summary, todo, run)
    return summary


def finish_summary(store: Store, config: ScoreConfig, plan: ScoringPlan, summary: ScoreSummary,
                   todo: list[str], run) -> None:
    """Every selected document must now have all its rows; the counts come from the rows themselves."""
    missing = [row["doc_id"] for row in select_documents(store, config, plan) if not row["done"]]
    counts = store.rows("scoring/run_counts", {"doc_ids": todo, "model_id": plan.records[0].model_id,
                                               "window_len": plan.window, "stride": plan.stride,
                                               "dtype": plan.dtype})[0]
    summary.docs_scored = len(todo) - len(missing)
    summary.docs_null = int(counts["docs_null"] or 0)
    summary.tokens_scored = int(counts["tokens"] or 0)
    count_summary(run, summary)
    if missing:
        raise DatacompError(f"{len(missing)} of {len(todo)} documents have no complete rows after the Ray run "
                            f"(e.g. {missing[0]}): {'; '.join(summary.warnings) or 'no shard held them'}; "
                            "run the command again to score them")

