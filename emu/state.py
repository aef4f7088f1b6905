"""Machine state shared by the engines, and the runtime fault they raise."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from asm.errors import Location, ToolchainError
from asm.isa import SCRATCH_SIZE, WORD_MASK
from asm.kernel import Kernel


class Status(enum.Enum):
    READY = "ready"  # not started, or resumable after a pause
    PAUSED = "paused"
    HALTED = "halted"  # a halt op ran
    FINISHED = "finished"  # pc ran past the last bundle
    FAULTED = "faulted"  # a batched run's image hit a runtime fault (RunResult.error)


@dataclass
class State:
    scratch: list[int]
    mem: list[int]
    pc: int = 0
    cycle: int = 0
    trace_buffer: list[int] = field(default_factory=list)
    status: Status = Status.READY

    @classmethod
    def fresh(cls, mem: list[int]) -> State:
        return cls(scratch=[0] * SCRATCH_SIZE, mem=list(mem))

    @property
    def stopped(self) -> bool:
        return self.status in (Status.HALTED, Status.FINISHED)


class Engine:
    """What every engine is given: the kernel and the run's options."""

    name = ""

    def __init__(
        self,
        kernel: Kernel,
        *,
        pause: bool = False,
        debug: bool = False,
        value_trace: dict | None = None,
        max_cycles: int | None = None,
    ) -> None:
        self.kernel = kernel
        self.pause = pause
        self.debug = debug
        self.value_trace = value_trace if value_trace is not None else {}
        self.max_cycles = max_cycles

    def run(self, state: State) -> None:
        """Run from state.pc until the program ends, halts or pauses."""
        raise NotImplementedError


class EmuError(ToolchainError):
    """A runtime fault: names pc, engine, slot and (when known) the source line.

    A faulting bundle has no effect: the state is as it was before the bundle.
    """

    def __init__(
        self,
        reason: str,
        *,
        kernel: Kernel,
        pc: int,
        cycle: int,
        engine: str | None = None,
        slot: int | None = None,
    ) -> None:
        where = f"pc {pc}"
        op_text = None
        if engine is not None and slot is not None:
            op = kernel.program[pc][engine][slot]
            op_text = " ".join(str(x) for x in op)
            where += f", {engine} slot {slot} ({op_text})"
        source = kernel.source_of(pc, engine, slot)
        super().__init__(f"{where}: {reason}",
                         location=Location.parse(source) if source else None)
        self.reason = reason
        self.pc = pc
        self.cycle = cycle
        self.engine = engine
        self.slot = slot

    @classmethod
    def cycle_limit(cls, limit: int, *, kernel: Kernel, pc: int, cycle: int) -> EmuError:
        """The run passed its cycle limit at the taken jump in bundle pc (every
        engine checks there, so all stop at the same place)."""
        message = f"cycle limit of {limit} exceeded (at a taken jump)"
        return cls(message, kernel=kernel, pc=pc, cycle=cycle)

    def signature(self) -> tuple:
        """What identifies a fault, for comparing engines."""
        return (self.reason, self.pc, self.engine, self.slot, self.cycle)


def word(value: int) -> int:
    return value & WORD_MASK
