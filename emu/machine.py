"""The public emulator API: `Machine` and `run`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from asm.errors import ImageError, ToolchainError
from asm.isa import WORD_MASK
from asm.jsonread import describe
from asm.kernel import Kernel, kernel_from_json

from . import native as core
from .fast import FastEngine
from .reference import ReferenceEngine
from .state import EmuError, Engine, State, Status

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

    The fast engine runs on the compiled core (emu/native.py) when it is built
    and the run allows it (`native=False` keeps to Python); the program is
    then checked as the core decodes it, and `kernel` is built only when asked
    for (or to name a fault).
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
        native: bool = True,
    ) -> None:
        if engine not in ENGINES:
            raise ToolchainError(f"unknown engine {engine!r} (choose from {', '.join(ENGINES)})")
        self._program = program
        self._engine_name = engine
        self.pause, self.debug, self.max_cycles = pause, debug, max_cycles
        self.value_trace = value_trace if value_trace is not None else {}
        self._decoded = None
        if native and engine == "fast" and not debug:
            self._decoded = core.decode(program.program if isinstance(program, Kernel)
                                        else program)
        if self._decoded is None:
            self.kernel  # noqa: B018 - load and check the program now
        self.state = State.fresh(check_image(mem))

    @cached_property
    def kernel(self) -> Kernel:
        return as_kernel(self._program)

    @cached_property
    def engine(self) -> Engine:
        return ENGINES[self._engine_name](
            self.kernel, pause=self.pause, debug=self.debug, value_trace=self.value_trace,
            max_cycles=self.max_cycles,
        )

    @property
    def cycles(self) -> int:
        return self.state.cycle

    def run(self) -> RunResult:
        st = self.state
        if self._decoded is not None and not st.stopped:
            self._run_native(st)
        else:
            self.engine.run(st)
        return RunResult(
            cycles=st.cycle, mem=list(st.mem), scratch=list(st.scratch),
            trace_buffer=list(st.trace_buffer), pc=st.pc, status=st.status, machine=self,
        )

    def _run_native(self, st: State) -> None:
        outcome = core.run(self._decoded, st, pause=self.pause, max_cycles=self.max_cycles)
        if outcome is None:
            return
        kind, pc = outcome
        if kind == core.FAULT:  # the reference engine names it
            self.engine.replay_fault(st, pc, st.cycle)
        if kind == core.LIMIT:
            raise EmuError.cycle_limit(self.max_cycles, kernel=self.kernel, pc=pc,
                                       cycle=st.cycle)
        self.engine.run(st)


def run(
    program: Kernel | Sequence | dict,
    mem: Sequence[int],
    *,
    engine: str = "fast",
    pause: bool = False,
    debug: bool = False,
    value_trace: dict | None = None,
    max_cycles: int | None = None,
    native: bool = True,
) -> RunResult:
    """Run `program` on a copy of `mem`; see `Machine` for the options."""
    return Machine(
        program, mem, engine=engine, pause=pause, debug=debug, value_trace=value_trace,
        max_cycles=max_cycles, native=native,
    ).run()
