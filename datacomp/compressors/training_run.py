"""Train a compressor on a slice of the store and record it in ``compressors`` (what `datacomp train` runs).

Steps: resolve the encoder and decoder (they must share a tokenizer), build the task examples from the
slice (or corpus) with the decoder's tokenizer, build the method (registry.build_compressor), train it
(train.train_compressor, checkpointing into ``<out>/checkpoints`` so a killed run resumes when the same
command is run again), save it to ``<out>`` (registry.save_compressor; default
``<store folder>/compressors/<compressor_id>``) and upsert its row.

``compressor_id`` = "<method>-<ratio>x-" + 12 hex of the hash of everything that decides the weights
(models, slice, task data, method config, training config, the resolved precision): the same command
gives the same id (and resumes), any change gives a new one. The precision is hashed resolved, so
``auto`` on a GPU (bf16) and on a CPU (fp32) are two compressors; fp32 is hashed under the word "auto",
which ids stored before the precision was resolved carry for their (CPU, fp32) runs: those keep their id,
and ``--dtype auto`` and ``--dtype fp32`` on a CPU are one compressor.

Default task per method (``task=None``): autoencoder and SAC pretrain on continuation (the autoencoder
mixes in reconstruction itself, ``reconstruction_share``); COMI and meanpool are query-aware and train
on span-recall, the QA task every corpus has (pass task="qa" with a qa_file for real QA).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Any, Literal

from datacomp.compressors.registry import REGISTRY
from datacomp.compressors.tasks import TASKS
from datacomp.config_checks import allowed_text, at_least, choices, one_of, positive
from datacomp.errors import ConfigError, DatacompError


@dataclasses.dataclass
class TrainRunConfig:
    method: str = "autoencoder"
    ratio: float = 4.0
    train_slice: str = ""             # slice name, or a corpus name until slices exist
    encoder: str = ""                 # model id / name / path
    decoder: str = ""
    task: str | None = None           # None: the method's default_task (its class says)
    qa_file: str | None = None        # SQuAD v1.1 / MRQA file for task qa
    steps: int = 200                  # train.TrainConfig's default: enough for the tiny tasks
    batch_size: int = 4               # examples per optimizer step
    micro_batch: int | str = 0        # examples per forward (gradient accumulation); 0 = batch_size; "auto" probes
    learning_rate: float | None = None  # None: train.default_learning_rate by the decoder's size
    schedule: Literal["constant", "cosine"] = "constant"  # after warmup
    dtype: Literal["auto", "bf16", "fp16", "fp32"] = "auto"  # models/precision.py
    context_tokens: int | None = None  # decoder tokens per context; None: the model's window, at most 512
    pretrain_steps: int = 0           # steps on continuation data of the slice before the task (SAC's recipe:
                                      # autoencoding + LM pretraining, then QA fine-tuning); 0 = none
    max_examples: int | None = None   # cap on training examples (None: every window of the slice)
    windows_per_document: int = 4     # training wants many windows; documents longer than 4 windows are rare
    seed: int = 0
    out: str | None = None            # saved compressor folder; default <store folder>/compressors/<compressor_id>
    method_config: dict[str, Any] = dataclasses.field(default_factory=dict)  # extra method config keys

    def __post_init__(self) -> None:
        """What the values alone tell; the method's own config is checked by make_config in the plan (its
        class lives with torch), the models and slice by the plan against the store."""
        if self.method not in REGISTRY:
            raise ConfigError("method", f"must be one of {allowed_text(REGISTRY)}, got {self.method!r}")
        if self.task is not None:
            one_of("task", self.task, TASKS)
        choices(self)
        at_least(self, "ratio", 1)
        positive(self, "steps", "batch_size", "learning_rate", "context_tokens", "max_examples",
                 "windows_per_document")
        at_least(self, "pretrain_steps", 0)
        micro = self.micro_batch
        if isinstance(micro, str) and micro != "auto":
            micro = int(micro) if micro.strip().isdigit() else micro
        if not (micro == "auto" or (isinstance(micro, int) and not isinstance(micro, bool) and micro >= 0)):
            raise ConfigError("micro_batch", f"{self.micro_batch!r}: a number of examples (0 = batch_size) or "
                                             "'auto'")
        self.micro_batch = micro
        if self.pretrain_steps and not self.train_slice:
            raise ConfigError("pretrain_steps", "needs {train_slice} (continuation data to pretrain on)",
                              others=("train_slice",))


def checked_method_config(config: TrainRunConfig, context_tokens: int = 128) -> Any:
    """The method's config dataclass (its own checks run as it is built): a bad value of a key given in
    ``method_config`` is reported as that key of method_config; ratio, context and seed are train's own fields."""
    from datacomp.compressors.registry import make_config, method_class

    known = {field.name for field in dataclasses.fields(method_class(config.method).config_class)}
    unknown = sorted(set(config.method_config) - known)
    if unknown:
        raise ConfigError("method_config", f"{unknown[0]}: unknown {config.method} config key; known keys: "
                                           f"{', '.join(sorted(known))}")
    try:
        return make_config(config.method, {
            **config.method_config, "ratio": config.ratio, "max_context_tokens": context_tokens,
            "max_target_tokens": context_tokens, "seed": config.seed}, source="method config")
    except ConfigError as error:
        if error.field in config.method_config:
            raise ConfigError("method_config", error.render(str)) from None
        raise


def check_method_config(config: TrainRunConfig) -> None:
    """The method config's own checks without the models (a pipeline's train stage, when the file is read):
    imports the method's module, so only when the file sets method_config keys."""
    if config.method_config:
        checked_method_config(config, config.context_tokens or 128)


def model_size(path: str) -> tuple[int, int]:
    """(context window, parameter count) of a model folder, read from its config without loading weights."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(path))
    window = int(getattr(config, "max_position_embeddings", 512) or 512)
    hidden, layers = config.hidden_size, config.num_hidden_layers
    vocab = config.vocab_size
    intermediate = getattr(config, "intermediate_size", 4 * hidden)
    return window, vocab * hidden + layers * (4 * hidden * hidden + 3 * hidden * intermediate)


@dataclasses.dataclass
class TrainedCompressor:
    compressor_id: str
    method: str
    ratio: float
    checkpoint: str
    encoder_id: str
    decoder_id: str
    train_slice: str
    task: str
    train_info: dict[str, Any]


@dataclasses.dataclass
class TrainingPlan:
    """Everything resolved from the store before training (rank 0 resolves it, every rank trains from it)."""

    task: str
    encoder: Any                       # models.registry.ModelRecord
    decoder: Any
    method_config: Any                 # the method's CompressorConfig
    train_config: Any                  # train.TrainConfig
    pretrain_config: Any               # train.TrainConfig of the pretraining stage, or None
    task_config: Any                   # tasks.TaskDataConfig
    micro: int | str                   # examples per forward, or "auto"
    learning_rate: float
    context_tokens: int
    compressor_id: str
    out: Path
    precision: str = "fp32"            # config.dtype resolved on this machine (models/precision.py)


# The word the id hashes for fp32: "auto", as stored CPU ids (hashed before precision was resolved) say.
_FP32_IN_ID = "auto"


def _hashed_method_config(method_config, tokenizer, task: str) -> dict:
    """The method config as the id hashes it: a prompt format that resolves to what "auto" resolves to on this
    task is hashed as "auto" (the resolved layout is hashed beside it), so a method whose default format
    changed (SAC's is "sac" since QA got its official layout) keeps its ids where its layout did not change."""
    from datacomp.compressors.prompts import resolve_format
    from datacomp.store.runs import to_jsonable

    hashed = to_jsonable(method_config)
    if resolve_format(method_config.prompt_format, tokenizer, task) == resolve_format("auto", tokenizer, task):
        hashed["prompt_format"] = "auto"
    return hashed


def plan_training(store, config: TrainRunConfig) -> TrainingPlan:
    """Validate ``config``, resolve the models and derive the compressor's id and folder."""
    from datacomp.compressors.prompts import prompt_signature, resolve_format
    from datacomp.compressors.registry import method_class
    from datacomp.compressors.tasks import TaskDataConfig
    from datacomp.compressors.train import TrainConfig, default_learning_rate
    from datacomp.models.loading import load_tokenizer
    from datacomp.models.precision import resolve_precision
    from datacomp.models.registry import resolve_model
    from datacomp.store.runs import config_hash, file_hash, to_jsonable

    precision = resolve_precision(config.dtype).name
    task = config.task or method_class(config.method).default_task
    if task == "qa" and (not config.qa_file or not Path(config.qa_file).is_file()):
        raise ConfigError("qa_file", f"is needed by task qa (SQuAD v1.1 .json or MRQA .jsonl); "
                                     f"{'none given' if not config.qa_file else 'not found: ' + str(config.qa_file)}")
    if task != "qa" and not config.train_slice:
        raise ConfigError("train_slice", "is required (a slice name, or a corpus name)")
    encoder, decoder = resolve_model(store, config.encoder), resolve_model(store, config.decoder)
    if encoder.tokenizer_id != decoder.tokenizer_id:
        raise DatacompError(f"encoder {encoder.model_id} and decoder {decoder.model_id} have different tokenizers "
                            f"({encoder.tokenizer_id} vs {decoder.tokenizer_id}); compressors need a shared one")
    model_window, n_params = model_size(decoder.path)
    context_tokens = config.context_tokens or min(512, model_window)
    method_config = checked_method_config(config, context_tokens)
    micro = config.micro_batch
    learning_rate = config.learning_rate or default_learning_rate(n_params)
    train_config = TrainConfig(steps=config.steps, batch_size=config.batch_size,
                               micro_batch=0 if micro == "auto" else micro, learning_rate=learning_rate,
                               schedule=config.schedule, seed=config.seed)
    task_config = TaskDataConfig(task=task, context_tokens=context_tokens,
                                 windows_per_document=config.windows_per_document, seed=config.seed,
                                 max_examples=config.max_examples)
    pretrain_config = dataclasses.replace(train_config, steps=config.pretrain_steps) if config.pretrain_steps else None
    decoder_tokenizer = load_tokenizer(decoder.path)
    identity = {"method": config.method, "encoder": encoder.model_id, "decoder": decoder.model_id,
                "train_slice": config.train_slice, "qa_file": file_hash(config.qa_file) if task == "qa" else None,
                "task": to_jsonable(task_config), "method_config": _hashed_method_config(method_config,
                                                                                         decoder_tokenizer, task),
                "train": to_jsonable(train_config), "pretrain_steps": config.pretrain_steps,
                "dtype": _FP32_IN_ID if precision == "fp32" else precision,
                "prompt": prompt_signature(method_config.prompt_format, decoder_tokenizer, task)}
    compressor_id = f"{config.method}-{config.ratio:g}x-{config_hash(identity)[:12]}"
    # Saved resolved: a compressor is evaluated in the prompt layout it was trained in, even after what
    # ``auto`` means changes (the identity above already carries the resolved layout's signature).
    method_config = dataclasses.replace(method_config, prompt_format=resolve_format(
        method_config.prompt_format, decoder_tokenizer, task))
    # Beside the store by default (not the working directory): the store's rows point at it.
    out = Path(config.out) if config.out else Path(store.path).resolve().parent / "compressors" / compressor_id
    return TrainingPlan(task=task, encoder=encoder, decoder=decoder, method_config=method_config,
                        train_config=train_config, pretrain_config=pretrain_config, task_config=task_config,
                        micro=micro, learning_rate=learning_rate, context_tokens=context_tokens,
                        compressor_id=compressor_id, out=out, precision=precision)


def train_on_store(store, config: TrainRunConfig, distributed=None) -> TrainedCompressor:
    """Train, save and record a compressor. Under torchrun (``distributed``, compressors/distributed.py) only
    rank 0 touches the store (``store`` is None elsewhere): it resolves the plan and the examples and hands
    them to every rank, all ranks train, and rank 0 saves the compressor and records it."""
    from datacomp.compressors.distributed import SINGLE
    from datacomp.compressors.registry import build_compressor, save_compressor
    from datacomp.compressors.train import probe_micro_batch, train_stages
    from datacomp.models.precision import matmul_scope, resolve_precision
    from datacomp.store.runs import to_jsonable

    distributed = distributed or SINGLE
    plan = distributed.on_main(lambda: plan_training(store, config))
    distributed.on_main(lambda: _claim_folder(plan.out))
    train_config, pretrain_config, micro = plan.train_config, plan.pretrain_config, plan.micro
    with _recorded(store, config, plan, distributed) as run, matmul_scope(resolve_precision(plan.precision)):
        with run.phase("task_data"):
            data, pretrain_data = distributed.on_main(lambda: _task_data(store, config, plan))
        run.count("examples", len(data.examples))
        for reason, n in data.skipped.items():
            run.count(f"skipped_{reason}", n)
        with run.phase("build"):
            compressor = build_compressor(config.method, plan.encoder.path, plan.decoder.path, plan.method_config,
                                          precision=plan.precision)
        stages = []
        if pretrain_config is not None:
            run.count("pretrain_examples", len(pretrain_data.examples))
            stages.append(("pretrain", pretrain_data.examples, pretrain_config))
        if micro == "auto":   # probed on every stage's examples: the longest rows decide what fits, on every rank
            with run.phase("probe_micro_batch"):
                train_config.micro_batch = min(distributed.gather(probe_micro_batch(
                    compressor, compressor.encode([e for _, examples, _ in stages for e in examples] + data.examples),
                    max(1, config.batch_size // distributed.world_size))))
        if pretrain_config is not None:
            pretrain_config.micro_batch = train_config.micro_batch
        run.count("micro_batch", train_config.micro_batch or train_config.batch_size)
        stages.append((plan.task, data.examples, train_config))
        with run.phase("train"):
            results = train_stages(compressor, stages, plan.out / "checkpoints", resume=True, distributed=distributed)
        result = results[-1]
        tail = result.losses[-10:]
        train_info = {"task": plan.task, "steps": result.steps, "examples": len(data.examples),
                      "skipped": data.skipped, "skipped_ids": data.skipped_ids,
                      "precision": compressor.precision.name,
                      "micro_batch": train_config.micro_batch or train_config.batch_size,
                      "learning_rate": plan.learning_rate, "context_tokens": plan.context_tokens,
                      "processes": distributed.world_size, "backend": distributed.backend,
                      "pretrain": None if pretrain_config is None else {
                          "steps": results[0].steps,
                          "objective": getattr(plan.method_config, "pretrain_objective", "lm"),
                          "final_loss": results[0].losses[-1] if results[0].losses else None,
                          "seconds": results[0].seconds},
                      "final_loss": result.losses[-1] if result.losses else None,
                      "mean_loss_last_10": sum(tail) / len(tail) if tail else None,
                      "seconds": result.seconds, "steps_per_second": result.steps_per_second,
                      "resumed_from": result.resumed_from, "losses": result.losses,
                      "train_config": to_jsonable(train_config)}
        if distributed.is_main:
            save_compressor(compressor, plan.out)
            store.run("compressors/upsert", {
                "compressor_id": plan.compressor_id, "method": config.method, "ratio": config.ratio,
                "encoder_id": plan.encoder.model_id, "decoder_id": plan.decoder.model_id,
                "train_slice": config.train_slice or str(config.qa_file), "checkpoint": str(plan.out.resolve()),
                "config": json.dumps(to_jsonable(plan.method_config)), "train_info": json.dumps(train_info),
                "run_id": run.run_id, "decoder_tuned": compressor.tunes_decoder()})
        run.count("steps", result.steps - result.resumed_from)
    distributed.barrier()   # the compressor is saved and recorded before any rank returns
    return TrainedCompressor(compressor_id=plan.compressor_id, method=config.method, ratio=config.ratio,
                             checkpoint=str(plan.out.resolve()), encoder_id=plan.encoder.model_id,
                             decoder_id=plan.decoder.model_id, train_slice=config.train_slice or str(config.qa_file),
                             task=plan.task, train_info=train_info)


def _claim_folder(out: Path) -> None:
    """The compressor's folder is signed as train's before the first checkpoint: a resumed run finds it its
    own, and a folder of the user's given as --out is refused before anything is written (datacomp.ownership;
    a folder of only the compressor's files is one saved before markers existed)."""
    from datacomp.compressors.registry import CONFIG_FILE, WEIGHTS_FILE
    from datacomp.ownership import only_names, take_folder

    take_folder(out, "train", legacy=only_names(CONFIG_FILE, WEIGHTS_FILE, "checkpoints"))


def _task_data(store, config: TrainRunConfig, plan: TrainingPlan):
    """The training examples (and the pretraining stage's), built from the store with the decoder's tokenizer."""
    from datacomp.compressors.tasks import build_task_data
    from datacomp.models.loading import load_tokenizer

    tokenizer = load_tokenizer(plan.decoder.path)
    data = build_task_data(plan.task_config, tokenizer, store=store, source=config.train_slice,
                           qa_file=config.qa_file)
    pretrain = None
    if plan.pretrain_config is not None:
        pretrain = build_task_data(dataclasses.replace(plan.task_config, task="continuation"), tokenizer,
                                   store=store, source=config.train_slice)
    return data, pretrain


@contextlib.contextmanager
def _recorded(store, config: TrainRunConfig, plan: TrainingPlan, distributed):
    """Rank 0's run is recorded in the store; the other ranks time theirs unrecorded."""
    from datacomp.store.runs import Run, record_run

    if not distributed.is_main:
        yield Run(run_id="", stage="train")
        return
    recorded = {**dataclasses.asdict(config), "compressor_id": plan.compressor_id,
                "processes": distributed.world_size, "backend": distributed.backend}
    with record_run(store, "train", recorded, seed=config.seed) as run:
        yield run
