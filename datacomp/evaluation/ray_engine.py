"""`datacomp evaluate --engine ray`: the batches of an evaluation on Ray actors (ray_jobs.py says how Ray is used).

A thin layer over runner.py: the driver resolves the evaluation as in-process (``prepare``, ``eval_id``, the
rows already stored) and plans the same length-sorted batches; each actor loads the compressor and decoder
once, encodes the examples as the driver did, warms up, and runs ``batches.batch_rows`` on the batches it
is handed, returning whatever rows a batch produces, per table, as a shard. The driver imports the shards
with the store merge and summarises from the store, as in-process. A re-run skips the stored rows (and
first imports the shards a killed driver left), so it resumes like the in-process path.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from datacomp.errors import DatacompError
from datacomp.ray_jobs import RayOptions, import_run_shards, ray_session, run_actors, shard_root


class EvaluationActor:
    """One Ray actor: the evaluated models, loaded once, and ``batch_rows`` over each batch it is handed."""

    def __init__(self, work, load: dict[str, str | None], schema, threads: int):
        import torch

        from datacomp.evaluation.batches import warm_up
        from datacomp.evaluation.runner import encode_for_evaluation, load_evaluated
        from datacomp.models.precision import resolve_precision

        torch.set_num_threads(max(1, threads))
        precision = resolve_precision(work.setup.precision.name)   # on this actor's device
        compressor, decoder, tokenizer = load_evaluated(precision, **load)
        setup = dataclasses.replace(work.setup, decoder=decoder, tokenizer=tokenizer, compressor=compressor,
                                    precision=precision)
        self.work = dataclasses.replace(work, setup=setup)
        self.encoded = encode_for_evaluation(setup)
        self.schema = schema
        warm_up(setup, work.config, self.encoded, work.systems)

    def __call__(self, batch):
        from datacomp.evaluation.batches import batch_rows
        from datacomp.store.shards import shard_table

        rows: dict[str, list[dict[str, Any]]] = {}
        for indices, pending in zip(batch.column("indices").to_pylist(), batch.column("pending").to_pylist()):
            made = batch_rows(self.work, self.encoded, indices, [set(systems) for systems in json.loads(pending)])
            for table, table_rows in made.items():
                rows.setdefault(table, []).extend(table_rows)
        return shard_table(rows, self.schema)


@dataclasses.dataclass
class RayEvaluation:
    """The engine runner.run_evaluation hands its pending batches to."""

    options: RayOptions

    def as_config(self) -> dict[str, Any]:
        return {"ray": self.options.as_config()}

    def before_selecting(self, store, eval_id: str, run) -> None:
        import_run_shards(store, shard_root(store, "evaluate"), run)

    def evaluate(self, store, work, batches, run) -> int:
        """Run the batches with pending systems on the actors, import their rows; returns the rows added."""
        from datacomp.evaluation.runner import get_compressor_row
        from datacomp.models.registry import resolve_model
        from datacomp.store.shards import shard_schema

        todo = [(indices, pending) for _, indices, pending in batches if indices]
        if not todo:
            return 0
        setup = work.setup
        if setup.compressor is not None:
            load = {"checkpoint": get_compressor_row(store, setup.compressor_id)["checkpoint"]}
        else:
            load = {"decoder_path": resolve_model(store, setup.decoder_id).path}
        shell = dataclasses.replace(work, setup=dataclasses.replace(setup, decoder=None, tokenizer=None,
                                                                    compressor=None))
        out_dir = shard_root(store, "evaluate") / work.run_id
        with ray_session(self.options) as ray:
            items = [{"indices": indices, "pending": json.dumps([sorted(p) for p in pending])}
                     for indices, pending in todo]
            dataset = ray.data.from_items(items, override_num_blocks=len(items))   # a batch per block: per call
            constructor = {"work": shell, "load": load, "schema": shard_schema(store),
                           "threads": int(self.options.cpus_per_worker)}
            with run.phase("ray"):
                run_actors(dataset, EvaluationActor, constructor, self.options, 1, out_dir)
        merged, warnings = import_run_shards(store, out_dir, run)
        done = {(r["system"], r["example_id"]) for r in store.rows("evaluation/done", {"eval_id": work.eval_id})}
        missing = [(system, setup.examples[i].example_id) for indices, pending in todo
                   for i, systems in zip(indices, pending) for system in systems
                   if (system, setup.examples[i].example_id) not in done]
        if missing:
            raise DatacompError(f"{len(missing)} (system, example) rows are missing after the Ray run (e.g. "
                                f"{missing[0]}): {'; '.join(warnings) or 'no shard held them'}; run the "
                                "command again to evaluate them")
        return merged.tables["evaluations"].added if "evaluations" in merged.tables else 0
