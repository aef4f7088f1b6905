"""Running a kernel on take-home images and verifying its output against the
reference kernel's (what `vemu run --check` reports)."""

from __future__ import annotations

from dataclasses import dataclass

from asm.kernel import Kernel

from .machine import Machine, RunResult
from .problem import Mismatch, compare_values, expected_output, reference_kernel


@dataclass
class VerifiedRun:
    result: RunResult
    mismatch: Mismatch | None = None  # the first wrong value, if verified and wrong
    stage: int | None = None  # with pauses: which pause point was wrong
    verified: bool = False

    @property
    def correct(self) -> bool | None:
        return (self.mismatch is None) if self.verified else None


def verified(result: RunResult, mem: list[int], *, verify: bool) -> VerifiedRun:
    """A finished run on `mem`, compared with the reference kernel's output when
    `verify` (for runs made elsewhere: batched, traced)."""
    if not verify:
        return VerifiedRun(result)
    return VerifiedRun(result, compare_values(result.mem, expected_output(mem)), verified=True)


def run_verified(
    kernel: Kernel,
    mem: list[int],
    *,
    verify: bool = False,
    pause: bool = False,
    debug: bool = False,
    engine: str = "fast",
    max_cycles: int | None = None,
) -> VerifiedRun:
    """Run `kernel` on `mem`, optionally verified as the take-home's harnesses verify.

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
                return VerifiedRun(result, mismatch, stage, verified=True)
        assert result is not None
        return VerifiedRun(result, None, None, verified=True)
    expected = None
    if verify or debug:
        *_, expected = reference_kernel(mem, trace)
    result = Machine(kernel, mem, engine=engine, debug=debug, value_trace=trace,
                     max_cycles=max_cycles).run()
    if not verify:
        return VerifiedRun(result)
    return VerifiedRun(result, compare_values(result.mem, expected), verified=True)
