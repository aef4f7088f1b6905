"""What the benchmark scripts share: best-of-N timing with the collector
quiet, and the environment whole processes run in."""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

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


def tool_command(script: str, module: str) -> list[str]:
    """A command-line tool as the user runs it: the console script installed
    beside this Python (its wrapper's imports included), else its entry
    module run by this Python."""
    installed = Path(sys.executable).parent / script
    return [str(installed)] if installed.exists() else [sys.executable, "-m", module]
