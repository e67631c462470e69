"""The one precision vocabulary, ``--dtype auto | fp32 | bf16 | fp16``, for every command.

What the words mean (``resolve_precision`` turns ``auto`` into one of the other three, on a device):
- ``auto``: on CUDA bf16 where the GPU supports it (Ampere and newer), else fp16; on a CPU fp32, even
  where it has native bf16 units (AMX): measured on a 2-core AMX CPU (benchmarks/README.md), bf16
  autocast was no faster for SmolLM2-135M (batched evaluation 2.74 vs 2.65 examples/s, batched training
  1.20 vs 1.17) and slower for the ~1M reference LMs (batched training 88 vs 111 examples/s; one-by-one
  evaluation 21 vs 35), while fp32 keeps CPU results exact. Ask for bf16 explicitly to use it.
- ``fp32``: weights and matmuls in exact float32 (TF32 off, whatever the process had set).
- ``bf16`` / ``fp16``: half-precision compute; what is cast depends on whether the command trains:

  ============================  ==========================================  ===============================
  command                       weights                                     forward
  ============================  ==========================================  ===============================
  score (and score rows)        loaded in the dtype (no fp32 copy kept)      in the weights' dtype
  train (compressors)           frozen ones cast on CUDA; trained ones fp32  autocast; fp16 adds a
                                (the master copies AdamW updates)            GradScaler on CUDA
  evaluate, window scores       all frozen: cast on CUDA                    autocast
  pretrain (CPU only)           fp32 master weights                         autocast; fp16 is refused (no
                                                                            loss scaling on the CPU)
  ============================  ==========================================  ===============================

  On a CPU the autocast path runs in bf16 when asked for (slower than fp32 without AMX).
- Ids: every id that keys resumable work hashes the *resolved* word (compressors' ``dtype``, evaluations'
  ``precision``, score rows' ``dtype`` as the torch name ``TORCH_NAMES`` gives), so a CPU fp32 run and a
  GPU bf16 run never resume each other.

TF32: ``matmul_scope(precision)`` enables TF32 matmuls only inside a mixed-precision CUDA stage (for its
fp32 parts) and turns them off inside an fp32 one, restoring the process's setting on exit: pipeline
stages share a process, and a bf16 train stage must not leave TF32 on for a later fp32 score stage whose
rows say float32.

Timing on an asynchronous device must wait for its kernels: ``synchronize(device)`` before reading a
clock (``models/latency.py``'s Stopwatch calls it), never a bare ``perf_counter`` around CUDA work.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import TYPE_CHECKING

from datacomp.errors import ConfigError

if TYPE_CHECKING:  # torch is imported where used: configs check their words without loading it
    import torch

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# The torch spelling score rows store (their ``dtype`` column, part of a row's identity since the start).
TORCH_NAMES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


@dataclasses.dataclass(frozen=True)
class Precision:
    name: str                # bf16 | fp16 | fp32 (auto resolved)
    device: torch.device

    @property
    def dtype(self) -> torch.dtype:
        import torch

        return getattr(torch, TORCH_NAMES[self.name])

    @property
    def torch_name(self) -> str:
        return TORCH_NAMES[self.name]

    @property
    def mixed(self) -> bool:
        return self.name != "fp32"

    def autocast(self):
        """The forward's context: autocast to the compute dtype, or nothing in fp32."""
        import torch

        if not self.mixed:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def grad_scaler(self):
        """A GradScaler for fp16 on CUDA (bf16 and fp32 need none), else None."""
        import torch

        if self.name == "fp16" and self.device.type == "cuda":
            return torch.amp.GradScaler("cuda")
        return None


def default_device() -> torch.device:
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def check_precision(name: str, refused: dict[str, str] | None = None) -> None:
    """A one-line error unless ``name`` is a word of the vocabulary (and not one the command refuses:
    ``refused`` maps it to the reason)."""
    if name not in PRECISIONS:
        raise ConfigError("dtype", f"{name!r}: choose one of {', '.join(PRECISIONS)}")
    if refused and name in refused:
        allowed = ", ".join(p for p in PRECISIONS if p not in refused)
        raise ConfigError("dtype", f"{name}: {refused[name]}; choose {allowed}")


def resolve_precision(name: str = "auto", device: torch.device | str | None = None) -> Precision:
    """The precision ``name`` means on ``device`` (default: the first GPU, else the CPU). No side effects:
    TF32 is set by ``matmul_scope``."""
    import torch

    check_precision(name)
    device = torch.device(device) if device is not None else default_device()
    if name == "auto":
        if device.type == "cuda":
            name = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            name = "fp32"
    return Precision(name, device)


def worker_precision(name: str, gpus_per_worker: float) -> str:
    """The word Ray workers run in: ``auto`` resolves on the driver, which may have no GPU; with GPU
    workers it means bf16 (what auto picks on Ampere and newer; pass fp16 for older GPUs)."""
    return "bf16" if name == "auto" and gpus_per_worker > 0 else name


@contextlib.contextmanager
def matmul_scope(precision: Precision):
    """TF32 matmuls on inside a mixed-precision CUDA stage, off inside any other; restored on exit."""
    import torch

    # One API only (the flags, not set_float32_matmul_precision, which also moves the CPU's oneDNN mode):
    # torch refuses to read a state set by a mix of the two.
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    mixed_cuda = precision.mixed and precision.device.type == "cuda"
    torch.backends.cuda.matmul.allow_tf32 = mixed_cuda
    if mixed_cuda:
        torch.backends.cudnn.allow_tf32 = True
    try:
        yield precision
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def apply_precision(module: torch.nn.Module, precision: Precision) -> torch.nn.Module:
    """Move ``module`` to the device; in mixed precision on CUDA cast its frozen parameters to the
    compute dtype (trained ones stay fp32 master copies)."""
    module.to(precision.device)
    if precision.mixed and precision.device.type == "cuda":
        for parameter in module.parameters():
            if not parameter.requires_grad:
                parameter.data = parameter.data.to(precision.dtype)
    return module


def synchronize(device: torch.device | str | None) -> None:
    """Wait for queued kernels (CUDA is asynchronous), so a clock read after it measures the work."""
    import torch

    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)
