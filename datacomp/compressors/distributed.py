"""Data-parallel training across processes, launched by ``torchrun`` (or ``accelerate launch``, which sets the
same environment): ``torchrun --nproc-per-node N -m datacomp train ...``.

``torch.distributed`` does the work: the launcher sets RANK, WORLD_SIZE, LOCAL_RANK and the rendezvous
address; ``init_process_group`` uses NCCL on GPUs (each rank on ``cuda:LOCAL_RANK``) and gloo on CPUs; the
trained parameters are wrapped in ``DistributedDataParallel``, which averages gradients across ranks during
the backward pass. train.py gives each rank a disjoint share of every step's examples and scales its loss so
the averaged gradient is the gradient of the whole step's mean loss: the same run as one process with the
same global batch (to float summation order). Rank 0 alone opens the store and writes checkpoints.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import os
from typing import Any, Callable

import torch

from datacomp.errors import DatacompError


@dataclasses.dataclass(frozen=True)
class Distributed:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def backend(self) -> str | None:
        if not self.enabled:
            return None
        return "nccl" if torch.cuda.is_available() else "gloo"

    def share(self, indices: list[int]) -> list[int]:
        """This rank's examples of one step: every world_size-th, from its rank (disjoint, together all)."""
        return indices[self.rank::self.world_size]

    def broadcast(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank (any picklable object)."""
        if not self.enabled:
            return value
        import torch.distributed as dist

        box = [value if self.is_main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, value: Any) -> list[Any]:
        """Every rank's ``value``, in rank order, on every rank."""
        if not self.enabled:
            return [value]
        import torch.distributed as dist

        values: list[Any] = [None] * self.world_size
        dist.all_gather_object(values, value)
        return values

    def total(self, value: float) -> float:
        """The sum over ranks of a float (a step's loss from each rank's share)."""
        return float(sum(self.gather(value)))

    def on_main(self, make: Callable[[], Any]) -> Any:
        """``make()`` run by rank 0 alone (it reads the store), its result, or its error, on every rank."""
        if not self.enabled:
            return make()
        outcome: tuple[bool, Any] | None = None
        if self.is_main:
            try:
                outcome = (True, make())
            except Exception as error:   # raised on every rank below, so none waits forever
                outcome = (False, error)
        ok, value = self.broadcast(outcome)
        if not ok:
            raise value
        return value

    def barrier(self) -> None:
        if self.enabled:
            import torch.distributed as dist

            dist.barrier()

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        """``module`` under DistributedDataParallel (gradients averaged over ranks), or as it is in one process.
        find_unused_parameters: a step may leave some trained parameters without a gradient (an objective
        that no row of the step uses), which DDP must then not wait for."""
        if not self.enabled:
            return module
        from torch.nn.parallel import DistributedDataParallel

        devices = [self.local_rank] if torch.cuda.is_available() else None
        return DistributedDataParallel(module, device_ids=devices, find_unused_parameters=True)

    def no_sync(self, module: torch.nn.Module, last: bool):
        """Accumulate gradients locally on all but a step's last micro-batch (one all-reduce per step)."""
        if self.enabled and not last:
            return module.no_sync()
        return contextlib.nullcontext()


SINGLE = Distributed()


def from_environment() -> Distributed:
    """The process's place in a torchrun/accelerate launch (initialising the process group once), or one
    process when no launcher set WORLD_SIZE."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return SINGLE
    try:
        context = Distributed(rank=int(os.environ["RANK"]), world_size=world_size,
                              local_rank=int(os.environ.get("LOCAL_RANK", "0")))
    except (KeyError, ValueError) as error:
        raise DatacompError(f"WORLD_SIZE={world_size} but RANK is missing or not a number ({error}): launch with "
                            "torchrun or accelerate launch") from error
    import torch.distributed as dist

    if not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(context.local_rank)   # "cuda" means this rank's GPU from here on
        dist.init_process_group(context.backend)
        atexit.register(dist.destroy_process_group)
    if not context.is_main:
        os.environ["DATACOMP_PROGRESS"] = "0"   # one progress bar: rank 0's
    return context


class StepLoss(torch.nn.Module):
    """The compressor's training loss as a module call, so DistributedDataParallel sees each forward."""

    def __init__(self, compressor):
        super().__init__()
        self.compressor = compressor

    def forward(self, rows) -> torch.Tensor:
        return self.compressor.training_loss(rows)
