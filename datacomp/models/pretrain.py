"""Pretrain a small Llama from scratch on a data mixture from the store, and register it.

``pretrain(store, PretrainConfig(name="lit", mixture="literature=0.7,code=0.3"))`` reads the mixture's
documents, trains (or reuses) the family's byte-level BPE tokenizer, samples training windows by domain
weight, trains with AdamW + warmup + cosine decay, evaluates validation perplexity per domain beside a
unigram baseline fitted on the same training tokens, saves an HF folder (safetensors + tokenizer) and
registers it. Same seed + same data + same thread count = same weights (the ``--minutes`` budget is the
exception: its cosine runs on wall-clock time, so the step count depends on the machine's load).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from datacomp.config_checks import at_least, between, positive
from datacomp.errors import ConfigError
from datacomp.models.architecture import ModelShape, llama_config, shape_of
from datacomp.models.copy_test import CopyTest, copy_test, restated_rows, segment_length, store_copy_tests
from datacomp.models.precision import check_precision, matmul_scope, resolve_precision
from datacomp.models.pretrain_loop import autocast_for, total_steps, train_steps, validation_perplexity
from datacomp.models.pretrain_cache import cached_folder, init_weights, load_cached, recipe_key, save_cached
from datacomp.models.mixture import check_domains, parse_mixture
from datacomp.models.pretrain_data import (
    MixtureSampler,
    induction_alphabet,
    domain_counts,
    evaluation_windows,
    load_domain_texts,
    slice_documents,
    token_stream,
)
from datacomp.models.registry import ModelRecord, register_model, resolve_model
from datacomp.models.tokenizer import encode_documents, load_family_tokenizer, start_token_id, train_tokenizer
from datacomp.models.unigram import unigram_perplexity
from datacomp.store import Store
from datacomp.store.runs import record_run



# The one precision vocabulary (models/precision.py) less what a CPU-only training loop cannot do.
PRETRAIN_REFUSES = {"fp16": "pretraining runs on the CPU, where fp16 autocast has no loss scaling"}


@dataclasses.dataclass
class PretrainConfig:
    name: str
    mixture: dict[str, float] | str  # "literature=0.7,code=0.3" or {"literature": 0.7, "code": 0.3}
    shape: ModelShape = dataclasses.field(default_factory=ModelShape)
    tokenizer: str | None = None  # folder of a family tokenizer to reuse; None = train one (shape.vocab)
    init_from: str | None = None  # a registered model (id, name or path) to continue pretraining: its weights,
    # tokenizer and shape (``shape`` is then ignored; ``tokenizer`` must be unset). How a family of decoders is
    # specialised per mixture from one copy-capable base, as code models are made from general ones.
    steps: int | None = None  # optimiser steps; None = from `minutes`, else DEFAULT_STEPS
    minutes: float | None = None  # time budget for training when `steps` is None
    batch_size: int = 8  # 8 x 128 = 1k tokens a step: in a 3-minute budget more, smaller steps win (measured)
    learning_rate: float = 1e-2  # tiny models tolerate (and, in a few hundred steps, need) a high peak rate
    min_lr_ratio: float = 0.1  # cosine decays to 10% of the peak, not to zero
    warmup_steps: int = 50  # linear warm-up keeps early Adam steps from blowing up the embeddings
    weight_decay: float = 0.1  # on matrices only, as in GPT-2/Llama recipes
    grad_clip: float = 1.0  # clip the global norm: cheap insurance against loss spikes
    copy_fraction: float = 0.0  # share of rows that restate a segment (pretrain_data.restated_row); with
    # induction_warmup_steps it is what keeps (and sharpens) copying on natural text
    induction_warmup_steps: int = 0  # first steps on synthetic rows (pretrain_data.synthetic_row): random tokens
    # of a small alphabet repeated at a random period. Measured (issue 10): 1000 of them, then natural text with
    # copy_fraction 0.5, batch 16, a constant 3e-3, pass the restated-segment test after ~5000 steps in all
    induction_alphabet: int = 512  # token ids in the synthetic rows: few enough that each recurs often
    copy_test_every: int = 0  # run the restated-segment test on held-out text every N steps (train_info's
    # copy_curve: when copying forms); 0 = only at the end
    seed: int = 0
    validation_fraction: float = 0.1  # share of documents (by doc_id hash) held out of training
    held_out_slice: str | None = None  # a slice never trained on (a study's evaluation split), held out too:
    # the models are then measured, and the compressors evaluated, on text they did not memorise
    max_train_chars: int = 8_000_000  # per domain: more text than a 3-minute run can read (~2.5M tokens)
    max_validation_chars: int = 200_000  # per domain: ~50k validation tokens, evaluated in seconds
    eval_tokens: int = 32_768  # per domain: tokens scored for validation perplexity (and unigram)
    eval_domains: list[str] | None = None  # None = every domain in the store with validation documents
    tokenizer_chars: int = 4_000_000  # text the tokenizer is trained on, split by mixture weight
    dtype: str = "auto"  # models/precision.py: auto = bf16 on GPUs, fp32 on CPUs (bf16 measured no faster)
    threads: int | None = None  # torch threads; None = torch's default (all cores)
    out: str | None = None  # model folder; None = <store folder>/models/<name>
    reuse_cached: bool = False  # reuse a model pretrained by the same recipe on the same texts, from
    # $DATACOMP_CACHE/pretrained (models/pretrain_cache.py): a base model is pretrained once for every study

    def __post_init__(self) -> None:
        if isinstance(self.shape, dict):
            try:
                self.shape = ModelShape(**self.shape)
            except ConfigError as error:
                raise error.nested("shape.") from None
        if self.init_from and self.tokenizer:
            raise ConfigError("tokenizer", "and {init_from} exclude each other: a continued model keeps its own "
                                           "tokenizer", others=("init_from",))
        check_precision(self.dtype, refused=PRETRAIN_REFUSES)
        positive(self, "steps", "minutes", "batch_size", "learning_rate", "eval_tokens", "threads")
        at_least(self, "warmup_steps", 0)
        at_least(self, "induction_warmup_steps", 0)
        at_least(self, "copy_test_every", 0)
        between(self, "validation_fraction", 0, 1, strict=True)
        if not 0 <= self.copy_fraction < 1:  # 1 would leave no natural text at all
            raise ConfigError("copy_fraction", f"must lie in [0, 1), got {self.copy_fraction}")
        between(self, "min_lr_ratio", 0, 1)


def pretrain(store: Store, config: PretrainConfig) -> ModelRecord:
    """Train, evaluate, save and register one reference model; returns its registry record."""
    import torch

    threads = torch.get_num_threads()
    try:
        with matmul_scope(resolve_precision(config.dtype, "cpu")):
            return _pretrain(store, config)
    finally:
        torch.set_num_threads(threads)  # `threads` is this run's setting, not the process's


def _pretrain(store: Store, config: PretrainConfig) -> ModelRecord:
    import torch

    mixture = parse_mixture(config.mixture)
    available = domain_counts(store)
    check_domains(mixture, available)
    eval_domains = config.eval_domains or sorted(available)
    check_domains({d: 1.0 for d in eval_domains}, available)
    out = Path(config.out) if config.out else Path(store.path).resolve().parent / "models" / config.name
    _claim_model_folder(store, out)
    precision = resolve_precision(config.dtype, "cpu").name  # pretraining runs on the CPU (never moved to a GPU)
    if config.threads:
        torch.set_num_threads(config.threads)

    with record_run(store, "pretrain", config, seed=config.seed) as run:
        with run.phase("load_data"):
            held_out = slice_documents(store, config.held_out_slice) if config.held_out_slice else frozenset()
            run.count("held_out_slice_docs", len(held_out))
            texts = {}
            for domain in sorted(set(mixture) | set(eval_domains)):
                texts[domain] = load_domain_texts(
                    store, domain, config.validation_fraction,
                    config.max_train_chars if domain in mixture else 0, config.max_validation_chars, held_out)
                run.count(f"train_docs.{domain}", len(texts[domain].train))
                run.count(f"validation_docs.{domain}", len(texts[domain].validation))

        base = shape = None
        if config.init_from:
            base = resolve_model(store, config.init_from)
        key = None
        if config.reuse_cached:
            key = recipe_key(config, texts, init_weights(base) if base else None, total_steps(config))
        if key is not None:
            cached = load_cached(config.name, key, out)
            if cached is not None:
                run.count("reused_cached", 1)
                record = register_model(store, out, config.name, source="pretrain", mixture=mixture,
                                        train_info={**cached, "reused_from": str(cached_folder(config.name, key)),
                                                    "run_id": run.run_id})
                store_copy_tests(store, record.model_id, {d: CopyTest(**t) for d, t in cached["copy_tests"].items()},
                                 run.run_id)
                return record
        with run.phase("tokenizer"):
            if base is not None:
                tokenizer = load_family_tokenizer(base.path)
                tokenizer_source = str(Path(base.path).resolve())
            elif config.tokenizer:
                tokenizer = load_family_tokenizer(config.tokenizer)
                tokenizer_source = str(Path(config.tokenizer).resolve())
            else:
                tokenizer = train_tokenizer(_tokenizer_texts(texts, mixture, config.tokenizer_chars),
                                            config.shape.vocab, config.seed)
                tokenizer_source = "trained"

        with run.phase("tokenize"):
            eos, start = tokenizer.eos_token_id, start_token_id(tokenizer)
            train_streams = {d: token_stream(encode_documents(tokenizer, texts[d].train), eos) for d in mixture}
            validation_streams = {}
            for domain in eval_domains:
                stream = token_stream(encode_documents(tokenizer, texts[domain].validation), eos)
                if len(stream) >= 2:
                    validation_streams[domain] = stream[:config.eval_tokens + 1]
            del texts
            for domain, stream in train_streams.items():
                run.count(f"train_tokens_available.{domain}", int(len(stream)))

        torch.manual_seed(config.seed)
        from transformers import LlamaForCausalLM

        if base is not None:
            model = LlamaForCausalLM.from_pretrained(base.path, dtype=torch.float32)
            shape = shape_of(model.config)
        else:
            shape = config.shape
            model = LlamaForCausalLM(llama_config(shape, tokenizer))
        n_params = sum(p.numel() for p in model.parameters())

        with run.phase("train"):
            sampler = MixtureSampler(train_streams, mixture, shape.context, config.batch_size, config.seed,
                                     copy_fraction=config.copy_fraction)
            alphabet = induction_alphabet(len(tokenizer), config.induction_alphabet, set(tokenizer.all_special_ids),
                                          config.seed)
            copy_rows = None
            if config.copy_test_every and validation_streams:   # held-out text of every validation domain
                copy_rows = np.concatenate([restated_rows(stream, segment_length(shape.context), 16, start)
                                            for stream in validation_streams.values()])
            trained = train_steps(model, sampler, config, precision, len(tokenizer), alphabet, start, copy_rows)
        run.count("steps", trained["steps"])
        run.count("tokens_seen", trained["tokens_seen"])

        copy_tests = {}
        with run.phase("evaluate"):
            # A domain whose documents all fell into training still gets a row, saying so (0 tokens).
            validation = {domain: {"perplexity": None, "unigram_perplexity": None, "ratio_to_unigram": None,
                                   "tokens": 0, "in_mixture": domain in mixture}
                          for domain in eval_domains if domain not in validation_streams}
            for domain, stream in validation_streams.items():
                windows = evaluation_windows(stream, shape.context)
                model_ppl, n_tokens = validation_perplexity(model, windows, precision)
                targets = np.concatenate([w[1:] for w in windows])
                baseline = unigram_perplexity(trained["unigram_counts"], targets)
                copy = copy_test(model, restated_rows(stream, segment_length(shape.context), 64, start),
                                 autocast=autocast_for(precision))
                first_nll, repeat_nll = (copy.first_nll, copy.restated_nll) if copy else (None, None)
                if copy:
                    copy_tests[domain] = copy
                validation[domain] = {"perplexity": model_ppl, "unigram_perplexity": baseline,
                                      "ratio_to_unigram": baseline / model_ppl, "tokens": n_tokens,
                                      "in_mixture": domain in mixture,
                                      "copy_first_nll": first_nll, "copy_repeat_nll": repeat_nll}

        with run.phase("save"):
            out.mkdir(parents=True, exist_ok=True)
            for stale in out.glob("*.safetensors"):
                stale.unlink()
            _save_quietly(model, tokenizer, out)

        train_info: dict[str, Any] = {
            "steps": trained["steps"], "tokens_seen": trained["tokens_seen"],
            "seconds": round(trained["seconds"], 2), "seed": config.seed, "precision": precision,
            "threads": torch.get_num_threads(), "batch_size": config.batch_size,
            "learning_rate": config.learning_rate, "n_params": n_params,
            "shape": dataclasses.asdict(dataclasses.replace(shape, vocab=len(tokenizer))),
            "init_from": base.model_id if base is not None else None,
            "tokenizer": tokenizer_source,
            "final_loss": trained["final_loss"], "loss_curve": trained["loss_curve"],
            "copy_curve": trained["copy_curve"],
            "tokens_seen_per_domain": trained["tokens_per_domain"],
            "validation_fraction": config.validation_fraction, "validation": dict(sorted(validation.items())),
            "copy_tests": {d: dataclasses.asdict(t) for d, t in sorted(copy_tests.items())},
            "run_id": run.run_id,
        }
        record = register_model(store, out, config.name, source="pretrain", mixture=mixture,
                                train_info=train_info)
        store_copy_tests(store, record.model_id, copy_tests, run.run_id)
        if key is not None:   # after registering: a cache failure must not lose the trained model
            save_cached(config.name, key, out, train_info)
        run.count("n_params", n_params)
        return record


def _claim_model_folder(store: Store, out: Path) -> None:
    """``out`` becomes pretrain's (datacomp.ownership) before the minutes of training: a model folder of the
    user's, or one ``models add --from-compressor`` wrote, is refused; one this store registered as pretrained
    is an earlier run's from before markers."""
    from datacomp.ownership import take_folder

    def registered(folder: Path) -> bool:
        rows = store.rows("models/find", {"ref": str(folder.resolve())})
        return bool(rows) and rows[0]["source"] == "pretrain"

    take_folder(out, "pretrain", legacy=registered)


def train_mixture_tokenizer(store: Store, mixture: dict[str, float] | str, out: str | Path,
                            vocab_size: int = 4096, seed: int = 0, validation_fraction: float = 0.1,
                            chars: int = 4_000_000):
    """Train a family tokenizer on the training split of ``mixture`` and save it to ``out``."""
    mixture = parse_mixture(mixture)
    check_domains(mixture, domain_counts(store))
    config = {"mixture": mixture, "out": str(out), "vocab_size": vocab_size, "seed": seed,
              "validation_fraction": validation_fraction, "chars": chars}
    with record_run(store, "tokenizer", config, seed=seed) as run:
        with run.phase("load_data"):
            texts = {d: load_domain_texts(store, d, validation_fraction, int(chars * w) + 1, 0)
                     for d, w in mixture.items()}
        with run.phase("train"):
            tokenizer = train_tokenizer(_tokenizer_texts(texts, mixture, chars), vocab_size, seed)
        Path(out).mkdir(parents=True, exist_ok=True)
        tokenizer.save_pretrained(str(out))
        run.count("vocab_size", len(tokenizer))
    return tokenizer


def _save_quietly(model, tokenizer, out: Path) -> None:
    """save_pretrained without transformers' own shard-writing progress bar."""
    from transformers.utils import logging

    enabled = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        model.save_pretrained(str(out))
        tokenizer.save_pretrained(str(out))
    finally:
        if enabled:
            logging.enable_progress_bar()


def _tokenizer_texts(texts, mixture: dict[str, float], budget: int) -> list[str]:
    """Training texts of the mixture domains, each domain contributing its weight's share of ``budget``."""
    chosen: list[str] = []
    for domain, weight in mixture.items():
        remaining = int(budget * weight)
        for text in texts[domain].train:
            if remaining <= 0:
                break
            chosen.append(text[:remaining])
            remaining -= len(text)
    return chosen
