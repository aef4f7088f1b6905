"""Running a kernel on take-home images and checking it against the reference kernel."""

from __future__ import annotations

from dataclasses import dataclass

from asm.kernel import Kernel

from .machine import Machine, RunResult
from .problem import Mismatch, compare_values, expected_output, reference_kernel


@dataclass
class CheckedRun:
    result: RunResult
    mismatch: Mismatch | None = None  # the first wrong value, if checked and wrong
    stage: int | None = None  # with pauses: which pause point was wrong
    checked: bool = False

    @property
    def correct(self) -> bool | None:
        return (self.mismatch is None) if self.checked else None


def checked(result: RunResult, mem: list[int], *, check: bool) -> CheckedRun:
    """A finished run on `mem`, compared with the reference kernel's output when
    `check` (for runs made elsewhere: batched, traced)."""
    if not check:
        return CheckedRun(result)
    return CheckedRun(result, compare_values(result.mem, expected_output(mem)), checked=True)


def run_checked(
    kernel: Kernel,
    mem: list[int],
    *,
    check: bool = False,
    pause: bool = False,
    debug: bool = False,
    engine: str = "fast",
    max_cycles: int | None = None,
) -> CheckedRun:
    """Run `kernel` on `mem`, optionally checking it like the take-home's harnesses.

    With `pause`, the machine stops at each `pause` and its values are compared
    with the reference kernel's state at the matching point, as the take-home's
    `perf_takehome.py` does; the value trace for debug compares is filled as
    the reference goes. Without it, the whole trace is computed first.
    Raises EmuError on a runtime fault.
    """
    trace: dict = {}
    if pause:
        machine = Machine(kernel, mem, engine=engine, pause=True, debug=debug,
                          value_trace=trace, max_cycles=max_cycles)
        result = None
        for stage, expected in enumerate(reference_kernel(mem, trace)):
            result = machine.run()
            mismatch = compare_values(result.mem, expected)
            if mismatch is not None:
                return CheckedRun(result, mismatch, stage, checked=True)
        assert result is not None
        return CheckedRun(result, None, None, checked=True)
    expected = None
    if check or debug:
        *_, expected = reference_kernel(mem, trace)
    result = Machine(kernel, mem, engine=engine, debug=debug, value_trace=trace,
                     max_cycles=max_cycles).run()
    if not check:
        return CheckedRun(result)
    return CheckedRun(result, compare_values(result.mem, expected), checked=True)
