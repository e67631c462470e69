"""One batch of an evaluation, from its pending (system, example) pairs to the rows the store gets: the
unit both the in-process loop (``evaluate_here``) and a Ray worker (ray_engine.py) run, so any row a batch
produces reaches the store either way. runner.py plans the batches and summarises."""

from __future__ import annotations

import dataclasses
from typing import Any

from datacomp.compressors.example import TaskExample
from datacomp.evaluation.metrics import exact_match_max, sentence_bleu, token_f1_max
from datacomp.evaluation.outputs import Output
from datacomp.evaluation.systems import batch_outputs


def score_output(example: TaskExample, output: Output, answer_words: int) -> dict[str, Any]:
    from datacomp.compressors.tasks import extract_answer

    prediction = extract_answer(example.task, output.text, answer_words)
    return {
        "prediction": prediction,
        "em": exact_match_max(prediction, example.answers),
        "f1": token_f1_max(prediction, example.answers),
        "bleu": sentence_bleu(prediction, example.target),
        "ratio_actual": (output.n_context_tokens / output.n_slots) if output.n_slots else None,
    }


@dataclasses.dataclass
class EvalWork:
    """What every batch of one evaluation shares (in this process, or shipped to a worker)."""

    setup: Any                         # runner.EvalSetup, its models loaded
    config: Any                        # runner.EvalConfig
    eval_id: str
    run_id: str
    systems: list[str]
    max_new_tokens: int


def pending_batches(setup, encoded: list, systems: list[str], done: set[tuple[str, str]],
                    batch_size: int) -> list[tuple[int, list[int], list[set[str]]]]:
    """The length-sorted batches: (examples in it, the indices of those with systems still pending, and
    which systems each of them still needs)."""
    from datacomp.length_batches import row_batches

    batches = []
    for indices in row_batches([e.length for e in encoded], batch_size):
        pending = [{s for s in systems if (s, setup.examples[i].example_id) not in done} for i in indices]
        keep = [row for row, wanted in enumerate(pending) if wanted]
        batches.append((len(indices), [indices[row] for row in keep], [pending[row] for row in keep]))
    return batches


def batch_rows(work: EvalWork, encoded: list, indices: list[int], pending: list[set[str]]
               ) -> dict[str, list[dict[str, Any]]]:
    """The rows one batch of examples produces, per table: what the store gets, here or from a worker."""
    setup = work.setup
    outputs = batch_outputs(setup, work.config, [setup.examples[i] for i in indices], [encoded[i] for i in indices],
                            work.max_new_tokens, pending, work.systems)
    return {"evaluations": [evaluation_row(work.eval_id, work.run_id, setup, work.config, setup.examples[i], output)
                            for i, example_outputs in zip(indices, outputs) for output in example_outputs]}


def write_batch_rows(store, rows: dict[str, list[dict[str, Any]]]) -> None:
    with store.transaction():
        for row in rows["evaluations"]:
            store.run("evaluation/insert", row)


def evaluate_here(store, work: EvalWork, encoded: list, batches, run) -> int:
    """The batches in this process, with a progress bar (its running mean F1 is the first system's)."""
    from datacomp.progress import progress_bar

    warm_up(work.setup, work.config, encoded, work.systems)
    written, running, primary = 0, [], work.systems[0]
    with progress_bar(f"evaluate {work.config.task}", total=len(work.setup.examples), unit="examples") as bar:
        for n_examples, indices, pending in batches:
            if indices:
                with run.phase("decode"):
                    rows = batch_rows(work, encoded, indices, pending)
                write_batch_rows(store, rows)
                written += len(rows["evaluations"])
                running.extend(row["f1"] for row in rows["evaluations"] if row["system"] == primary)
            bar.advance(n_examples, **({"f1": sum(running) / len(running)} if running else {}))
    return written


def warm_up(setup, config, encoded: list, systems: list[str]) -> None:
    """One untimed batch of one example through every system (first-call overheads otherwise skew the
    first latency)."""
    batch_outputs(setup, config, setup.examples[:1], encoded[:1], 1, [set(systems)], systems)


def evaluation_row(eval_id: str, run_id: str, setup, config, example: TaskExample, output: Output
                   ) -> dict[str, Any]:
    """One (system, example) row of the evaluations table."""
    scored = score_output(example, output, config.answer_words)
    return {
        "eval_id": eval_id, "run_id": run_id, "system": output.system, "compressor_id": setup.compressor_id,
        "method": output.method, "decoder_id": setup.decoder_id, "task": example.task,
        "example_id": example.example_id, "doc_id": example.doc_id, "eval_slice": setup.eval_slice,
        "ratio_target": setup.ratio, "ratio_actual": scored["ratio_actual"],
        "n_context_tokens": output.n_context_tokens, "n_slots": output.n_slots,
        "memory_bytes": output.memory_bytes, "f1": scored["f1"], "em": scored["em"], "bleu": scored["bleu"],
        "target_nll": output.target_nll, "compress_ms": output.compress_ms, "decode_ms": output.decode_ms,
        "prediction": scored["prediction"], "reference": example.target,
    }
