"""The precision and device choice shared by pretraining, compressor training and evaluation.

``--dtype auto | bf16 | fp16 | fp32``:
- ``auto``: on CUDA bf16 where the GPU supports it (Ampere and newer), else fp16; on a CPU fp32, even
  where it has native bf16 units (AMX): measured on a 2-core AMX CPU (benchmarks/README.md), bf16
  autocast was no faster for SmolLM2-135M (batched evaluation 2.74 vs 2.65 examples/s, batched training
  1.20 vs 1.17) and slower for the ~1M reference LMs (batched training 88 vs 111 examples/s; one-by-one
  evaluation 21 vs 35), while fp32 keeps CPU results exact. Ask for bf16 explicitly to use it.
- bf16 / fp16 on CUDA: frozen weights are cast to the compute dtype (half the memory), trained
  parameters stay fp32 (the master copies AdamW updates) and the forward runs under autocast; fp16 adds
  a GradScaler (bf16 has fp32's exponent range and needs none). TF32 matmuls are enabled in mixed runs
  (for the fp32 parts of the work); an explicit fp32 run keeps exact fp32 matmuls.
- On a CPU the same autocast path runs in bf16 when asked for (it is slower than fp32 without AMX).

Timing on an asynchronous device must wait for its kernels: ``synchronize(device)`` before reading a
clock (``evaluation/latency.py`` calls it), never a bare ``perf_counter`` around CUDA work.
"""

from __future__ import annotations

import contextlib
import dataclasses

import torch

from datacomp.errors import DatacompError

DTYPE_CHOICES = ("auto", "bf16", "fp16", "fp32")
_TORCH = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


@dataclasses.dataclass(frozen=True)
class Precision:
    name: str                # bf16 | fp16 | fp32 (auto resolved)
    device: torch.device

    @property
    def dtype(self) -> torch.dtype:
        return _TORCH[self.name]

    @property
    def mixed(self) -> bool:
        return self.name != "fp32"

    def autocast(self):
        """The forward's context: autocast to the compute dtype, or nothing in fp32."""
        if not self.mixed:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def grad_scaler(self):
        """A GradScaler for fp16 on CUDA (bf16 and fp32 need none), else None."""
        if self.name == "fp16" and self.device.type == "cuda":
            return torch.amp.GradScaler("cuda")
        return None


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_precision(name: str = "auto", device: torch.device | str | None = None) -> Precision:
    if name not in DTYPE_CHOICES:
        raise DatacompError(f"--dtype {name!r}: choose one of {', '.join(DTYPE_CHOICES)}")
    device = torch.device(device) if device is not None else default_device()
    if name == "auto":
        if device.type == "cuda":
            name = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            name = "fp32"
    if device.type == "cuda" and name != "fp32":  # fp32 asked for: exact fp32 matmuls, no TF32
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return Precision(name, device)


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
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)
