"""Wall-clock latency, measured the same way for compressors and baselines.

``perf_counter`` around the call, in milliseconds, with the device synchronised before each clock read
(CUDA kernels are asynchronous: a bare clock would time the launches, not the work); the caller runs one
untimed warm-up first (lazy initialisation, allocator growth and the first-call kernel selection
otherwise land on example 1). Batched work is timed per batch and shared equally among its rows.
Latency depends on the machine and on ``torch.get_num_threads()`` (recorded with every run's environment).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator


class Stopwatch:
    """``with stopwatch.time(): ...`` adds the block's duration; ``ms`` reads the total in milliseconds."""

    def __init__(self, device=None) -> None:
        self.seconds = 0.0
        self.device = device

    @contextmanager
    def time(self) -> Iterator[None]:
        from datacomp.models.precision import synchronize

        synchronize(self.device)
        start = time.perf_counter()
        try:
            yield
        finally:
            synchronize(self.device)
            self.seconds += time.perf_counter() - start

    @property
    def ms(self) -> float:
        return self.seconds * 1000.0


def to_ms(seconds: float) -> float:
    return seconds * 1000.0
