"""The training loop every compressor shares: AdamW over the trainable parameters, resumable checkpoints.

A run is a pure function of (compressor as built, examples, TrainConfig): the examples a step sees are
derived from the step number and the seed (a fresh permutation per epoch), the learning rate from the
step number, and the only other randomness (e.g. the autoencoder's objective mix) comes from torch's CPU
generator, whose state is checkpointed. So a run killed at any point and resumed from its last checkpoint
produces the same parameters and the same loss curve as an uninterrupted run.

Checkpoint folder layout: ``ckpt-<step>/`` holding ``trainable.safetensors``, ``optimizer.pt`` (AdamW
state, loaded with ``weights_only``), ``rng.safetensors`` (torch CPU generator, one per rank) and
``trainer_state.json`` (step, per-step losses, configs); ``LATEST`` names the newest complete one (replaced
atomically after the folder is fully written, older folders are then removed).

Under torchrun (distributed.py) each rank trains on a disjoint share of every step's examples, its loss
scaled by world_size / batch_size per example so DistributedDataParallel's gradient average is the gradient
of the step's mean loss: the loss curve of one process with the same ``batch_size`` (the global batch),
micro-batching within each share as before. Rank 0 writes the checkpoints (with every rank's generator);
every rank resumes from them. Each rank draws per-row randomness (the autoencoder's objective mix) from its
own generator, seeded by (seed, rank) in a fresh run: for the autoencoder a distributed run is another
draw of that mix than a single process's; the other methods draw nothing while training.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path
from typing import Sequence

import torch

from datacomp.compressors.base import Compressor
from datacomp.compressors.distributed import SINGLE, Distributed, StepLoss
from datacomp.errors import ConfigError, DatacompError
from datacomp.progress import progress_bar


@dataclasses.dataclass
class TrainConfig:
    steps: int = 200             # optimizer steps (small LMs learn the tiny tasks in a few hundred)
    batch_size: int = 4          # examples per optimizer step, their losses averaged
    micro_batch: int = 0         # examples per forward/backward (gradients accumulate); 0 = batch_size
    learning_rate: float = 1e-3  # see default_learning_rate: 1e-3 only for the ~1M-param reference LMs
    weight_decay: float = 0.0    # the trained parts are small (LoRA, tokens, adapters): no decay by default
    warmup_steps: int = 10       # linear warmup avoids early blow-ups of freshly initialised tokens
    schedule: str = "constant"   # after warmup: "constant" or "cosine" (to 10% of the peak, as COMI's runs)
    max_grad_norm: float = 1.0   # clip, as all three papers' trainers do (SAC: 2.0)
    checkpoint_every: int = 50   # steps between checkpoints (a kill loses at most this many)
    seed: int = 0                # seeds the example order


def default_learning_rate(n_params: int) -> float:
    """The official runs train at 1e-4 (SAC pretraining) to 1e-5 (COMI) on 1B-7B models; 1e-4 for real
    LMs (SmolLM2-135M and up). The ~1M-parameter reference LMs keep 1e-3: session 2's 500-step runs moved
    their loss at 1e-3 and barely at 1e-4 (measured in the quickstart, notes of stop 7)."""
    return 1e-3 if n_params < 20_000_000 else 1e-4


@dataclasses.dataclass
class TrainResult:
    steps: int                   # steps completed in total (including those before a resume)
    losses: list[float]          # loss of every step, from step 1
    seconds: float               # wall time of this invocation
    steps_per_second: float      # steps of this invocation / seconds
    resumed_from: int            # step the run resumed from (0 = fresh)
    checkpoint: Path | None      # the newest checkpoint folder


LATEST = "LATEST"
RESUME_KEYS = ("batch_size", "learning_rate", "weight_decay", "warmup_steps", "schedule", "max_grad_norm", "seed")


def step_example_indices(step: int, batch_size: int, n_examples: int, seed: int) -> list[int]:
    """Indices of the examples of 0-based ``step``: consecutive runs through per-epoch permutations."""
    indices = []
    for position in range(step * batch_size, (step + 1) * batch_size):
        epoch, offset = divmod(position, n_examples)
        generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        indices.append(int(torch.randperm(n_examples, generator=generator)[offset]))
    return indices


def learning_rate_at(step: int, config: TrainConfig) -> float:
    """Linear warmup over ``warmup_steps``, then constant or cosine decay to 10% at ``steps``."""
    import math

    if config.warmup_steps > 0 and step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    if config.schedule == "cosine":
        span = max(config.steps - config.warmup_steps, 1)
        progress = min(max(step - config.warmup_steps, 0) / span, 1.0)
        return config.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
    return config.learning_rate


def micro_batches(encoded: Sequence, indices: list[int], micro_batch: int) -> list[list]:
    """A step's examples cut into micro-batches of similar length (length_batches.row_batches)."""
    from datacomp.length_batches import row_batches

    rows = [encoded[i] for i in indices]
    return [[rows[j] for j in group] for group in row_batches([r.length for r in rows], micro_batch)]


def is_out_of_memory(error: BaseException) -> bool:
    return isinstance(error, torch.cuda.OutOfMemoryError) or "out of memory" in str(error).lower()


def probe_micro_batch(compressor: Compressor, encoded: Sequence, start: int) -> int:
    """The largest micro-batch (from ``start``, halving on out-of-memory, as lm-evaluation-harness
    does) whose forward and backward on the longest examples fit; 1 if even that fails (then the
    error is raised by the first real step)."""
    longest = sorted(range(len(encoded)), key=lambda i: -encoded[i].length)
    size = max(1, start)
    rng = torch.get_rng_state()   # the probe's objective draws must not shift the run's
    try:
        return _probe(compressor, encoded, longest, size)
    finally:
        torch.set_rng_state(rng)


def _probe(compressor: Compressor, encoded: Sequence, longest: list[int], size: int) -> int:
    while size > 1:
        try:
            with compressor.precision.autocast():
                loss = compressor.training_loss([encoded[i] for i in longest[:size]])
            loss.backward()
            compressor.zero_grad(set_to_none=True)
            return size
        except RuntimeError as error:
            if not is_out_of_memory(error):
                raise
            compressor.zero_grad(set_to_none=True)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            size //= 2
    return 1


def train_compressor(compressor: Compressor, examples: Sequence, config: TrainConfig,
                     checkpoint_dir: str | Path | None = None, resume: bool = True,
                     description: str | None = None, distributed: Distributed = SINGLE) -> TrainResult:
    """Train ``compressor`` in place on ``examples`` (TaskExamples) for ``config.steps`` steps.

    With ``checkpoint_dir``, checkpoints every ``checkpoint_every`` steps and at the end; with ``resume``
    and a checkpoint there, continues that run (the same method, compressor config and TrainConfig except
    ``steps``, which may grow). With ``distributed`` (a torchrun launch) this rank trains on its share."""
    if not examples:
        raise DatacompError("no training examples: the training slice produced no examples")
    if config.batch_size < distributed.world_size:
        raise ConfigError("batch_size", f"{config.batch_size} is smaller than the {distributed.world_size} "
                                        "processes: each needs at least one example per step")
    parameters = [p for p in compressor.parameters() if p.requires_grad]
    if not parameters:
        raise DatacompError(f"{compressor.method} has no trainable parameters")
    optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    losses: list[float] = []
    start = 0
    latest = None
    precision = compressor.precision
    scaler = precision.grad_scaler()
    if checkpoint_dir is not None and resume and (checkpoint_dir / LATEST).is_file():
        latest = checkpoint_dir / (checkpoint_dir / LATEST).read_text().strip()
        start, losses = load_checkpoint(latest, compressor, optimizer, config, scaler, distributed.rank)
    elif distributed.enabled:
        torch.manual_seed(rank_seed(config.seed, distributed.rank))
    compressor.train()
    encoded = compressor.encode(examples)
    micro = config.micro_batch or config.batch_size
    model = distributed.wrap(StepLoss(compressor))
    began = time.perf_counter()
    with progress_bar(description or f"training {compressor.method}", total=config.steps, unit="steps",
                      done=min(start, config.steps)) as bar:
        for step in range(start, config.steps):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate_at(step, config)
            optimizer.zero_grad(set_to_none=True)
            total = 0.0
            indices = distributed.share(step_example_indices(step, config.batch_size, len(examples), config.seed))
            groups = micro_batches(encoded, indices, micro)
            for k, rows in enumerate(groups):
                with distributed.no_sync(model, last=k == len(groups) - 1):
                    with precision.autocast():
                        # a share of the step's mean; times world_size as DDP averages the ranks' gradients
                        loss = model(rows) * (len(rows) * distributed.world_size / config.batch_size)
                    (scaler.scale(loss) if scaler is not None else loss).backward()
                total += float(loss.detach()) / distributed.world_size
            total = distributed.total(total)
            if scaler is not None:
                scaler.unscale_(optimizer)
            if config.max_grad_norm > 0:
                torch.nn.utils.clip_grad_norm_(parameters, config.max_grad_norm)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            losses.append(total)
            done = step + 1
            elapsed = time.perf_counter() - began
            bar.advance(1, loss=total, steps_s=(done - start) / max(elapsed, 1e-9))
            if checkpoint_dir is not None and (done % config.checkpoint_every == 0 or done == config.steps):
                generators = distributed.gather(torch.get_rng_state())
                if distributed.is_main:
                    save_checkpoint(checkpoint_dir, compressor, optimizer, config, done, losses, scaler, generators)
                distributed.barrier()   # every rank sees the checkpoint before going on
                latest = checkpoint_dir / checkpoint_name(done)
    compressor.eval()
    seconds = time.perf_counter() - began
    ran = max(config.steps - start, 0)
    return TrainResult(steps=max(config.steps, start), losses=losses, seconds=seconds,
                       steps_per_second=ran / seconds if seconds > 0 else 0.0, resumed_from=start,
                       checkpoint=latest)


def rank_seed(seed: int, rank: int) -> int:
    """The generator seed of ``rank`` in a fresh distributed run (ranks draw independently)."""
    return seed * 1_000_003 + 7_919 * (rank + 1)


def train_stages(compressor: Compressor, stages: Sequence[tuple[str, Sequence, TrainConfig]],
                 checkpoint_dir: str | Path, resume: bool = True, distributed: Distributed = SINGLE
                 ) -> list[TrainResult]:
    """Consecutive training stages (e.g. SAC: ("continuation", examples, config), then ("qa", ...)), each
    checkpointed in ``checkpoint_dir/<name>``. Resuming re-enters a finished stage only to load its final
    checkpoint (no step is repeated), so a killed multi-stage run also continues where it stopped."""
    results = []
    for name, examples, config in stages:
        results.append(train_compressor(compressor, examples, config, Path(checkpoint_dir) / name, resume=resume,
                                        description=f"training {compressor.method} ({name})",
                                        distributed=distributed))
    return results


def checkpoint_name(step: int) -> str:
    return f"ckpt-{step:08d}"


def save_checkpoint(checkpoint_dir: Path, compressor: Compressor, optimizer, config: TrainConfig, step: int,
                    losses: list[float], scaler=None, generators: list[torch.Tensor] | None = None) -> Path:
    """Write checkpoint ``step``; ``generators``: every rank's CPU generator state (default: this process's)."""
    from safetensors.torch import save_file

    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    name = checkpoint_name(step)
    folder = checkpoint_dir / name
    partial = checkpoint_dir / (name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    state = {k: v.contiguous() for k, v in compressor.trainable_state_dict().items()}
    save_file(state, str(partial / "trainable.safetensors"))
    torch.save(optimizer.state_dict(), partial / "optimizer.pt")
    generators = generators or [torch.get_rng_state()]
    save_file({generator_key(rank): state for rank, state in enumerate(generators)}, str(partial / "rng.safetensors"))
    trainer_state = {"step": step, "losses": losses, "method": compressor.method, "world_size": len(generators),
                     "compressor_config": dataclasses.asdict(compressor.config),
                     "train_config": dataclasses.asdict(config),
                     "grad_scaler": scaler.state_dict() if scaler is not None else None}
    (partial / "trainer_state.json").write_text(json.dumps(trainer_state) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(partial, folder)
    pointer = checkpoint_dir / (LATEST + ".tmp")
    pointer.write_text(name + "\n")
    os.replace(pointer, checkpoint_dir / LATEST)
    for old in checkpoint_dir.glob("ckpt-*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return folder


def resume_keys(config: TrainConfig) -> tuple[str, ...]:
    """The TrainConfig keys a resumed run must share with its checkpoint (``steps`` may grow, except
    under a cosine schedule, whose curve it sets)."""
    return RESUME_KEYS + (("steps",) if config.schedule == "cosine" else ())


def generator_key(rank: int) -> str:
    """rng.safetensors key of a rank's generator (rank 0 keeps the single-process name)."""
    return "torch_cpu" if rank == 0 else f"torch_cpu_rank{rank}"


def load_checkpoint(folder: Path, compressor: Compressor, optimizer, config: TrainConfig, scaler=None,
                    rank: int = 0) -> tuple[int, list[float]]:
    """Restore parameters, optimizer and this rank's RNG from ``folder``; returns (step, losses so far). A rank
    the checkpoint has no generator for (resumed on more processes) is seeded by (seed, rank, step)."""
    from safetensors.torch import load_file

    state_file = folder / "trainer_state.json"
    if not state_file.is_file():
        raise DatacompError(f"checkpoint {folder} is incomplete: {state_file.name} is missing")
    state = json.loads(state_file.read_text())
    if state["method"] != compressor.method:
        raise DatacompError(f"{state_file}: checkpoint of method {state['method']!r}, not {compressor.method!r}")
    here = dataclasses.asdict(compressor.config)
    for key, value in state["compressor_config"].items():
        if here.get(key) != value:
            raise DatacompError(f"{state_file}: compressor config key {key!r} was {value!r} in the checkpoint, "
                                f"now {here.get(key)!r}; use a new checkpoint folder or resume=False")
    now = dataclasses.asdict(config)
    for key in resume_keys(config):
        if state["train_config"].get(key) != now[key]:
            raise DatacompError(f"{state_file}: train config key {key!r} was {state['train_config'].get(key)!r} "
                                f"in the checkpoint, now {now[key]!r}; use a new checkpoint folder or resume=False")
    compressor.load_trainable_state_dict(load_file(str(folder / "trainable.safetensors")),
                                         source=str(folder / "trainable.safetensors"))
    optimizer.load_state_dict(torch.load(folder / "optimizer.pt", weights_only=True))
    generators = load_file(str(folder / "rng.safetensors"))
    if generator_key(rank) in generators:
        torch.set_rng_state(generators[generator_key(rank)])
    else:
        torch.manual_seed(rank_seed(config.seed, rank) + int(state["step"]))
    if scaler is not None and state.get("grad_scaler"):
        scaler.load_state_dict(state["grad_scaler"])
    return int(state["step"]), [float(x) for x in state["losses"]]
