"""What the benchmark scripts share: best-of-N timing with the collector
quiet, and the environment whole processes run in."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable

# A user's Python keeps its bytecode cache; this project's sandboxes set
# PYTHONDONTWRITEBYTECODE, which would add compiling to every process timed.
# Whole processes run with the cache on (written by a first, untimed run).
USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    """The fastest of `repeat` runs of `fn`, in seconds."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)
