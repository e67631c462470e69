"""Wall-clock latency, measured the same way for compressors and baselines.

``perf_counter`` around the call, in milliseconds; the caller runs one untimed warm-up first (lazy
initialisation, allocator growth and the first-call kernel selection otherwise land on example 1).
Latency depends on the machine and on ``torch.get_num_threads()`` (recorded with every run's environment).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator


class Stopwatch:
    """``with stopwatch.time(): ...`` adds the block's duration; ``ms`` reads the total in milliseconds."""

    def __init__(self) -> None:
        self.seconds = 0.0

    @contextmanager
    def time(self) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - start

    @property
    def ms(self) -> float:
        return self.seconds * 1000.0


def to_ms(seconds: float) -> float:
    return seconds * 1000.0
