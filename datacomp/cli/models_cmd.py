"""`datacomp pretrain`, `datacomp tokenizer train`, `datacomp models add|list`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from datacomp.cli.common import (DEFAULT_DB, DbOption, JsonOption, app, console, creating_store, existing_store,
                                 print_json, print_listing, print_table)

models_app = typer.Typer(help="Register and list causal LMs.", no_args_is_help=True)
app.add_typer(models_app, name="models")
tokenizer_app = typer.Typer(help="Byte-level BPE tokenizers shared by a model family.", no_args_is_help=True)
app.add_typer(tokenizer_app, name="tokenizer")

MixtureOption = Annotated[str, typer.Option("--mixture", metavar="DOMAIN=W,...",
                                            help="Domain weights, e.g. literature=0.7,code=0.3.")]


@app.command("pretrain")
def pretrain_command(
    model_name: Annotated[str, typer.Option("--model-name", metavar="NAME", help="Model name in the registry "
                                            "(and the default folder name).")],
    mixture: MixtureOption,
    tokenizer: Annotated[Optional[Path], typer.Option(
        "--tokenizer", metavar="DIR", help="Reuse this tokenizer folder instead of training one: shares it in a "
        "family.")] = None,
    init_from: Annotated[Optional[str], typer.Option(
        "--init-from", metavar="MODEL", help="Continue pretraining this registered model (its weights, tokenizer "
        "and shape) on the mixture, instead of starting from scratch.")] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", help="Optimiser steps [default: 500, or what "
                                                 "--minutes allows].")] = None,
    minutes: Annotated[Optional[float], typer.Option(
        "--minutes", help="Time budget for training instead of --steps.")] = None,
    layers: Annotated[int, typer.Option("--layers", help="Transformer blocks.")] = 2,
    hidden: Annotated[int, typer.Option("--hidden", help="Width of the residual stream.")] = 128,
    heads: Annotated[int, typer.Option("--heads", help="Attention heads.")] = 4,
    context: Annotated[int, typer.Option("--context", help="Context length in tokens.")] = 128,
    vocab: Annotated[int, typer.Option("--vocab", help="Vocabulary of a newly trained tokenizer.")] = 4096,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Windows per optimiser step.")] = 8,
    learning_rate: Annotated[float, typer.Option("--learning-rate", metavar="LR", help="Peak learning rate.")] = 1e-2,
    min_lr_ratio: Annotated[float, typer.Option(
        "--min-lr-ratio", metavar="R", help="Where the cosine ends, as a share of the peak (1 = constant).")] = 0.1,
    copy_fraction: Annotated[float, typer.Option(
        "--copy-fraction", help="Share of training rows that restate a segment (teaches copying).")] = 0.0,
    induction_warmup_steps: Annotated[int, typer.Option(
        "--induction-warmup-steps", help="First steps on synthetic rows (a random segment repeated at a random "
        "period): they form the induction circuit that reading context needs.")] = 0,
    induction_alphabet: Annotated[int, typer.Option(
        "--induction-alphabet", help="Token ids the synthetic rows draw from.")] = 512,
    held_out_slice: Annotated[Optional[str], typer.Option(
        "--held-out-slice", metavar="SLICE", help="Never train on this slice's documents (e.g. an evaluation "
        "split): they are held out with the validation documents.")] = None,
    reuse_cached: Annotated[bool, typer.Option(
        "--reuse-cached", help="Reuse a model pretrained by the same recipe on the same texts from "
        "$DATACOMP_CACHE/pretrained, and keep this one there.")] = False,
    copy_test_every: Annotated[int, typer.Option(
        "--copy-test-every", help="Run the restated-segment test every N steps (the copy curve in train_info; "
        "0 = at the end only).")] = 0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    threads: Annotated[Optional[int], typer.Option("--threads", help="Torch threads [default: all cores].")] = None,
    dtype: Annotated[str, typer.Option("--dtype", metavar="auto|fp32|bf16|fp16", help="Training precision (auto: bf16 "
                                       "on GPUs, fp32 on CPUs).")] = "auto",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="DIR", help="Model folder "
                                                "[default: <store folder>/models/NAME].")] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Pretrain a small Llama on a domain mixture of the store (from scratch, or continuing --init-from), save it
    and register it."""
    from datacomp.api import pretrain
    from datacomp.models.architecture import ModelShape
    from datacomp.models.pretrain import PretrainConfig

    config = PretrainConfig(
        name=model_name, mixture=mixture, tokenizer=str(tokenizer) if tokenizer else None, init_from=init_from,
        steps=steps, min_lr_ratio=min_lr_ratio,
        minutes=minutes, shape=ModelShape(layers=layers, hidden=hidden, heads=heads, context=context, vocab=vocab),
        batch_size=batch_size, learning_rate=learning_rate, copy_fraction=copy_fraction,
        induction_warmup_steps=induction_warmup_steps, induction_alphabet=induction_alphabet,
        copy_test_every=copy_test_every, held_out_slice=held_out_slice, reuse_cached=reuse_cached, seed=seed,
        threads=threads, dtype=dtype,
        out=str(out) if out else None)
    with existing_store(db, read_only=False) as store:  # pretraining reads the store's documents
        record = pretrain(store, config)
    info = record.train_info or {}
    if as_json:
        print_json({"model_id": record.model_id, "path": record.path, "n_params": record.n_params,
                    "tokenizer_id": record.tokenizer_id, "mixture": record.mixture, "train_info": info})
        return
    console.print(f"[bold]{record.model_id}[/] ({record.n_params:,} parameters) saved to {record.path}")
    console.print(f"{info.get('steps')} steps, {info.get('tokens_seen'):,} tokens in {info.get('seconds')} s "
                  f"({info.get('precision')}, {info.get('threads')} threads)")
    print_table([{"domain": domain, "in mixture": "yes" if v["in_mixture"] else "", "perplexity": v["perplexity"],
                  "unigram perplexity": v["unigram_perplexity"], "unigram / model": v["ratio_to_unigram"],
                  "copy NLL first / restated": _copy_cell(v), "tokens": v["tokens"]}
                 for domain, v in info.get("validation", {}).items()],
                title="validation perplexity")


def _copy_cell(validation: dict) -> str:
    first, repeat = validation.get("copy_first_nll"), validation.get("copy_repeat_nll")
    return "" if first is None else f"{first:.2f} / {repeat:.2f}"


@tokenizer_app.command("train")
def tokenizer_train(
    mixture: MixtureOption,
    out: Annotated[Path, typer.Option("--out", "-o", metavar="DIR", help="Folder to save the tokenizer in.")],
    vocab: Annotated[int, typer.Option("--vocab", help="Vocabulary size.")] = 4096,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Train a byte-level BPE tokenizer on the training split of a mixture (pass it to pretrain --tokenizer)."""
    from datacomp.models.pretrain import train_mixture_tokenizer

    with existing_store(db, read_only=False) as store:
        tokenizer = train_mixture_tokenizer(store, mixture, out, vocab_size=vocab, seed=seed)
    if as_json:
        print_json({"out": str(out), "vocab_size": len(tokenizer)})
        return
    console.print(f"tokenizer with {len(tokenizer)} tokens saved to {out}", highlight=False)


@models_app.command("add")
def models_add(
    path: Annotated[Optional[str], typer.Argument(
        metavar="PATH", help="A model folder, a .gguf file, or `smollm2` (the packaged GGUF); omit with "
        "--from-compressor.")] = None,
    from_compressor: Annotated[Optional[str], typer.Option(
        "--from-compressor", metavar="ID", help="A trained compressor id: register its encoder LM, LoRA merged "
        "into the base weights (autoencoder, sac), saved under <store folder>/models/NAME.")] = None,
    model_name: Annotated[Optional[str], typer.Option(
        "--model-name", metavar="NAME", help="Registry name [default: the folder or file name; "
        "<compressor id>-encoder].")] = None,
    trust_remote_code: Annotated[bool, typer.Option(
        "--trust-remote-code", help="Run the model folder's own Python code (only for folders you trust).")] = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Register a model folder, dequantise a GGUF file once into a cached folder and register that, or
    (--from-compressor ID) export and register a trained compressor's encoder."""
    from datacomp.api import add_model
    from datacomp.models.gguf import SHORTCUTS

    with creating_store(db) as store:  # a model can be the first thing a new store holds
        record = add_model(store, path, from_compressor=from_compressor, model_name=model_name,
                           trust_remote_code=trust_remote_code)
    if as_json:
        print_json(_model_row(record))
        return
    console.print(f"registered [bold]{record.model_id}[/] ({record.n_params:,} parameters, "
                  f"tokenizer {record.tokenizer_id}) at {record.path}")
    if path != record.name and not model_name and path in SHORTCUTS:
        console.print(f"refer to it as {record.name} or {path} (e.g. --model {path})", highlight=False)


@models_app.command("copy-test")
def models_copy_test(
    model: Annotated[str, typer.Argument(help="A registered model: id, name or path.")],
    domain: Annotated[Optional[list[str]], typer.Option(
        "--domain", help="Only these domains (repeatable; default: every domain of the store).")] = None,
    segments: Annotated[int, typer.Option("--segments", help="Held-out segments per domain.")] = 64,
    segment_tokens: Annotated[int, typer.Option(
        "--segment-tokens", help="Tokens per segment (fewer when the model's window is shorter).")] = 64,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """The restated-segment test: NLL of held-out segments read once, then restated right after: does the
    model read its context? Stored in the copy_tests table; `models list` shows the verdict."""
    from datacomp import api
    from datacomp.models.copy_test import CopyTestConfig

    config = CopyTestConfig(model=model, domains=domain or None, segments=segments, segment_tokens=segment_tokens)
    with existing_store(db, read_only=False) as store:
        results = api.copy_test(store, config)
    rows = [{"domain": d, **r.as_dict()} for d, r in results.items()]
    if as_json:
        print_json(rows)
        return
    print_table(rows, columns=["domain", "first_nll", "restated_nll", "reads_context", "segments",
                               "segment_tokens"], title=f"restated-segment test of {model} (nats/token)")


@models_app.command("list")
def models_list(db: DbOption = DEFAULT_DB, as_json: JsonOption = False) -> None:
    """Registered models: name, id, path, parameters, tokenizer id, mixture, and whether the model reads
    its context (the restated-segment test: mean NLL first -> restated, nats/token)."""
    from datacomp.models.copy_test import copy_test_rows, verdict_by_model, verdict_text
    from datacomp.models.registry import list_models

    with existing_store(db) as store:
        verdicts = verdict_by_model(copy_test_rows(store))
        rows = [{**_model_row(record), "copy_test": verdicts.get(record.model_id)} for record in list_models(store)]
    if as_json:
        print_json(rows)
        return
    print_listing([{**row, "mixture": _mixture_text(row["mixture"]), "reads context": verdict_text(row["copy_test"])}
                   for row in rows], False,
                  "no models yet: register one with datacomp models add PATH (a folder, a .gguf file or smollm2), "
                  "or pretrain one with datacomp pretrain --model-name NAME --mixture DOMAIN=W,...",
                  columns=["name", "model_id", "path", "n_params", "tokenizer_id", "mixture", "reads context"])


def _model_row(record) -> dict:
    return {"name": record.name, "model_id": record.model_id, "path": record.path, "n_params": record.n_params,
            "tokenizer_id": record.tokenizer_id, "vocab_size": record.vocab_size,
            "context_len": record.context_len, "architecture": record.architecture, "mixture": record.mixture,
            "source": record.source}


def _mixture_text(mixture: dict | None) -> str:
    from datacomp.models.mixture import format_mixture

    return format_mixture(mixture) if mixture else ""
