"""Execution: a cycle-exact emulator of the take-home machine, and the take-home problem."""

from .machine import ENGINES, Machine, RunResult, as_kernel, check_image, run
from .state import EmuError, Status


def run_batch(program, mems, *, max_cycles=None) -> list[RunResult]:
    """Run one program over many memory images at once (emu/batch.py; NumPy is
    loaded on first use)."""
    from .batch import run_batch as impl
    return impl(program, mems, max_cycles=max_cycles)


__all__ = ["ENGINES", "EmuError", "Machine", "RunResult", "Status", "as_kernel", "check_image",
           "run", "run_batch"]
