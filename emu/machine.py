"""The public emulator API: `Machine` and `run`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asm.errors import ImageError, ToolchainError
from asm.isa import WORD_MASK
from asm.jsonread import describe
from asm.kernel import Kernel, kernel_from_json

from .fast import FastEngine
from .reference import ReferenceEngine
from .state import EmuError, State, Status

ENGINES = {"fast": FastEngine, "reference": ReferenceEngine}


def as_kernel(program: Kernel | Sequence | dict) -> Kernel:
    """A Kernel from a Kernel, a take-home bundle list (tuples or JSON lists) or a JSON object."""
    if isinstance(program, Kernel):
        return program
    if isinstance(program, tuple):
        program = list(program)
    return kernel_from_json(program)


def check_image(mem: Any) -> list[int]:
    """A memory image must be a list of 32-bit words."""
    if not isinstance(mem, list | tuple):
        raise ImageError(f"a memory image is a list of words, not {type(mem).__name__}")
    for i, v in enumerate(mem):
        if type(v) is not int or not 0 <= v <= WORD_MASK:
            raise ImageError(f"memory word {i} is {describe(v)}, not an integer in 0..2**32-1")
    return list(mem)


@dataclass
class RunResult:
    """Where a run stopped: at the end, at a halt, or at a pause (resume with `.machine.run()`)."""

    cycles: int
    mem: list[int]
    scratch: list[int]
    trace_buffer: list[int]
    pc: int
    status: Status
    machine: Machine | None  # None for a batched run's result
    error: EmuError | None = None  # a batched run's fault (emu.run raises it instead)

    @property
    def paused(self) -> bool:
        return self.status is Status.PAUSED


class Machine:
    """One core running one kernel on one memory image.

    `run()` runs until the program ends or halts, or, with `pause=True`, until
    the next `pause`; calling it again resumes. `value_trace` is read by debug
    compares (with `debug=True`) when they execute, so a caller may fill it as
    it goes, as the take-home's harness does.
    """

    def __init__(
        self,
        program: Kernel | Sequence | dict,
        mem: Sequence[int],
        *,
        engine: str = "fast",
        pause: bool = False,
        debug: bool = False,
        value_trace: dict | None = None,
        max_cycles: int | None = None,
    ) -> None:
        if engine not in ENGINES:
            raise ToolchainError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
        self.kernel = as_kernel(program)
        self.state = State.fresh(check_image(mem))
        self.value_trace = value_trace if value_trace is not None else {}
        self.engine = ENGINES[engine](
            self.kernel, pause=pause, debug=debug, value_trace=self.value_trace,
            max_cycles=max_cycles,
        )

    @property
    def cycles(self) -> int:
        return self.state.cycle

    def run(self) -> RunResult:
        self.engine.run(self.state)
        st = self.state
        return RunResult(
            cycles=st.cycle, mem=list(st.mem), scratch=list(st.scratch),
            trace_buffer=list(st.trace_buffer), pc=st.pc, status=st.status, machine=self,
        )


def run(
    program: Kernel | Sequence | dict,
    mem: Sequence[int],
    *,
    engine: str = "fast",
    pause: bool = False,
    debug: bool = False,
    value_trace: dict | None = None,
    max_cycles: int | None = None,
) -> RunResult:
    """Run `program` on a copy of `mem`; see `Machine` for the options."""
    return Machine(
        program, mem, engine=engine, pause=pause, debug=debug, value_trace=value_trace,
        max_cycles=max_cycles,
    ).run()
