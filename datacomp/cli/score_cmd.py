"""`datacomp score`: per-document entropy, surprisal, bits per byte and the encoder-decoder gap."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from datacomp.cli.common import (DEFAULT_DB, AddressOption, DbOption, EngineOption, GpusPerWorkerOption,
                                 JsonOption, ThreadsOption, WorkersOption, app, console, existing_store, print_json,
                                 print_table, ray_options, set_threads)


@app.command("score")
def score(
    corpus: Annotated[Optional[list[str]], typer.Option("--corpus", metavar="NAME", help="Corpus to score, "
                                                        "repeatable.")] = None,
    encoder: Annotated[Optional[str], typer.Option("--encoder", metavar="MODEL", help="Encoder model: id, name or "
                                                   "folder.")] = None,
    decoder: Annotated[Optional[str], typer.Option("--decoder", metavar="MODEL", help="Decoder model: id, name or "
                                                   "folder.")] = None,
    model: Annotated[Optional[str], typer.Option("--model", metavar="MODEL", help="One model alone (instead of "
                                                 "--encoder and --decoder).")] = None,
    window: Annotated[Optional[int], typer.Option("--window", help="Tokens per window [default: the model's "
                                                  "context, at most 2048].")] = None,
    stride: Annotated[Optional[int], typer.Option("--stride", help="New tokens scored per window after the first "
                                                  "[default: window/2].")] = None,
    dtype: Annotated[str, typer.Option("--dtype", metavar="auto|fp32|bf16|fp16", help="Precision of the "
                                       "weights and forward passes (auto: bf16 on GPUs, fp32 on CPUs; stored "
                                       "as float32, bfloat16, float16).")] = "fp32",
    token_budget: Annotated[int, typer.Option("--token-budget", help="Rows x padded length per batch.")] = 8192,
    shard: Annotated[str, typer.Option("--shard", metavar="I/N", help="Score only shard I of N (by doc_id "
                                       "hash).")] = "0/1",
    limit: Annotated[Optional[int], typer.Option("--limit", help="Only the first N documents (by doc_id).")] = None,
    slice_name: Annotated[Optional[str], typer.Option("--slice", metavar="SLICE", help="Only the members of this "
                                                      "slice (with no --corpus: of every corpus).")] = None,
    threads: ThreadsOption = None,
    engine: EngineOption = "in-process",
    address: AddressOption = None,
    workers: WorkersOption = 2,
    gpus_per_worker: GpusPerWorkerOption = 0.0,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Score documents under one model, or an encoder, a decoder and their gap.

    One pass per batch scores every token, the first after a BOS (else EOS) prefix; long documents in rolling
    windows. Re-running skips documents already scored at the same (model, window, stride, dtype). --engine ray
    scores on Ray workers (a local instance, or a cluster at --address) and stores the same rows."""
    import dataclasses

    from datacomp.api import score as score_store
    from datacomp.scoring import ScoreConfig

    set_threads(threads)
    config = ScoreConfig(corpora=list(corpus or []), encoder=encoder, decoder=decoder, model=model, window=window,
                         stride=stride, dtype=dtype, token_budget=token_budget, shard=shard, limit=limit,
                         slice=slice_name)
    options = ray_options(engine, address, workers, gpus_per_worker)
    with existing_store(db, read_only=False) as store:
        summary = score_store(store, config, ray=options)
    result = dataclasses.asdict(summary) | {"tokens_per_second": round(summary.tokens_per_second, 1)}
    if as_json:
        print_json(result)
        return
    console.print(f"run {summary.run_id}: window {summary.window}, stride {summary.stride}, {summary.dtype}, "
                  f"gap {summary.gap_method or '-'}")
    print_table([{"field": k, "value": result[k]} for k in (
        "docs_selected", "docs_skipped", "docs_scored", "docs_null", "tokens_scored", "batches", "seconds",
        "tokens_per_second")])

