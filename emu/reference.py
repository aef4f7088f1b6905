"""The reference engine: a plain interpreter that follows docs/isa.md line by line.

It is the oracle the fast engine is tested against, so it stays simple:
one bundle at a time, every slot reading the state as it was at the start
of the bundle, then all scratch writes, then all memory writes. Every op runs
by one handler that reads the op's meaning in the ISA table (asm/isa.py):
operand values, lane by lane, into the meaning's expressions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asm import isa
from asm.kernel import bundle_cost

from .codegen import evaluator
from .state import EmuError, Engine, State, Status

VLEN = isa.VLEN


class _Fault(Exception):
    """Raised inside a handler; turned into EmuError with the slot's place."""


class Effects:
    """The pending effects of one bundle: scratch and memory writes (address ->
    value), trace values, the jump taken and the stop, if any."""

    __slots__ = ("scratch", "mem", "trace", "jump", "stop")

    def __init__(self) -> None:
        self.scratch: dict[int, int] = {}
        self.mem: dict[int, int] = {}
        self.trace: list[int] = []
        self.jump: int | None = None
        self.stop: Status | None = None


class ReferenceEngine(Engine):
    name = "reference"

    def run(self, state: State) -> None:
        """Run from state.pc until the program ends, halts or pauses."""
        if state.stopped:
            return
        program = self.kernel.program
        state.status = Status.READY
        while state.status is Status.READY:
            if state.pc >= len(program):
                state.status = Status.FINISHED
                break
            self.step(state)

    def step(self, state: State) -> None:
        """Execute the bundle at state.pc (raising EmuError with no effect on a fault)."""
        self.commit(state, self.effects(state))

    def fault(self, state: State) -> EmuError:
        """The error of the bundle at state.pc, which another engine (the fast
        one, its compiled core, a batch) saw fault before it wrote anything:
        named here exactly, as a run on this engine would raise it."""
        try:
            self.step(state)
        except EmuError as e:
            return e
        raise AssertionError(f"another engine saw a fault at pc {state.pc} that the "
                             "reference engine does not")  # pragma: no cover

    def effects(self, state: State) -> Effects:
        """What the bundle at state.pc would do, without doing it (EmuError on a
        fault). The debugger looks at them before `commit` applies them."""
        pc = state.pc
        bundle = self.kernel.program[pc]
        effects = Effects()
        for engine, slots in bundle.items():
            if engine == "debug" and not self.debug:
                continue
            for i, slot in enumerate(slots):
                try:
                    HANDLERS[(engine, slot[0])](self, state, effects, pc, *slot[1:])
                except _Fault as e:
                    raise EmuError(str(e), kernel=self.kernel, pc=pc, cycle=state.cycle,
                                   engine=engine, slot=i) from None
        return effects

    def commit(self, state: State, effects: Effects) -> None:
        """Apply the effects of the bundle at state.pc and move past it."""
        pc = state.pc
        bundle = self.kernel.program[pc]
        for addr, value in effects.scratch.items():
            state.scratch[addr] = value
        for addr, value in effects.mem.items():
            state.mem[addr] = value
        state.trace_buffer.extend(effects.trace)
        state.cycle += bundle_cost(bundle)
        state.pc = pc + 1
        if effects.jump is not None:
            state.pc = effects.jump
            if self.max_cycles is not None and state.cycle > self.max_cycles:
                raise EmuError.cycle_limit(self.max_cycles, kernel=self.kernel, pc=pc,
                                           cycle=state.cycle)
        if effects.stop is not None:
            state.status = effects.stop


# ------------------------------------------------------------------ handlers
# One handler for every op, reading its meaning (asm/isa.py) as it stands:
# the operand values, lane by lane, into the meaning's expressions.

Handler = Callable[..., None]


def _handler(op: isa.Op) -> Handler:
    m = op.meaning
    fn = {name: evaluator(op, expr) for name, expr in (
        ("value", m.value), ("address", m.address), ("store", m.store), ("trace", m.trace),
        ("jump", m.jump), ("when", m.when)) if expr is not None}
    check = None if m.compare is None else tuple(evaluator(op, e) for e in m.compare)
    offset = op.offset_index

    def handler(eng, st, fx, pc, *args):
        if m.compare is not None and not eng.debug:
            return
        shift = args[offset - 1] if offset is not None else 0
        mem = _Memory(st)
        expected = None
        if check is not None:  # every key first: a missing one is the fault to name
            expected = [_trace_value(eng, check[1](*_values(op, st, args, shift, i), i, pc,
                                                   mem)) for i in range(m.lanes)]
        for i in range(m.lanes):
            values = _values(op, st, args, shift, i)
            if "value" in fn:
                try:
                    v = fn["value"](*values, i, pc, mem)
                except ZeroDivisionError:
                    raise _Fault(f"division by zero ({values[1]} by {values[2]})") from None
                fx.scratch[args[0] + shift + i] = v
            if "store" in fn:
                addr = fn["address"](*values, i, pc, mem)
                if not 0 <= addr < len(st.mem):
                    raise _Fault(outside("write", addr, len(st.mem)))
                fx.mem[addr] = fn["store"](*values, i, pc, mem)
            if "trace" in fn:
                fx.trace.append(fn["trace"](*values, i, pc, mem))
            if expected is not None:
                got = check[0](*values, i, pc, mem)
                if got != expected[i]:
                    word = args[0] + i
                    if m.lanes > 1:
                        raise _Fault(f"debug {op.name} failed in lane {i} for "
                                     f"{args[1][i]!r}: scratch[{word}] = {got}, "
                                     f"expected {expected[i]}")
                    raise _Fault(f"debug {op.name} failed for {args[1]!r}: scratch[{word}] = "
                                 f"{got}, expected {expected[i]}")
        if "jump" in fn and ("when" not in fn or fn["when"](*values, 0, pc, mem) != 0):
            fx.jump = _jump_to(eng, fn["jump"](*values, 0, pc, mem))
        if m.stop == "halt" or (m.stop == "pause" and eng.pause):
            fx.stop = Status.HALTED if m.stop == "halt" else Status.PAUSED
    return handler


def _values(op: isa.Op, st: State, args: tuple, shift: int, lane: int) -> list:
    """Each operand's value in `lane`: the word a source operand holds (its
    lane's, for a vector), a number or key as it is; None for a destination."""
    out = []
    for operand, a in zip(op.operands, args, strict=True):
        kind = operand.kind
        if kind.is_write:
            out.append(None)
        elif kind.is_scratch:
            out.append(st.scratch[a + shift + (lane if kind.width > 1 else 0)])
        else:
            out.append(a)
    return out


class _Memory:
    """`mem[e]` of the meanings: a read outside the image is a fault."""

    __slots__ = ("mem",)

    def __init__(self, st: State) -> None:
        self.mem = st.mem

    def __call__(self, addr: int) -> int:
        if not 0 <= addr < len(self.mem):
            raise _Fault(outside("read", addr, len(self.mem)))
        return self.mem[addr]


def outside(access: str, addr: int, size: int) -> str:
    """The fault of a memory `access` ("read" or "write") at `addr` of an image
    of `size` words."""
    if not size:
        return f"memory {access} at {addr}, but the memory image is empty"
    return f"memory {access} at {addr}, outside the image (0..{size - 1})"


def _jump_to(eng, target: int) -> int:
    """A taken jump's target; outside 0..len(program) is a fault (the
    reference simulator would end the run past the end: see docs/isa.md)."""
    n = len(eng.kernel.program)
    if target < 0:
        raise _Fault(f"jump to bundle {target}, before the start of the program")
    if target > n:
        raise _Fault(f"jump to bundle {target}, past the end of the program "
                     f"(0..{n}, where {n} ends it)")
    return target


def _trace_value(eng: ReferenceEngine, key: Any) -> int:
    try:
        return eng.value_trace[key]
    except KeyError:
        raise _Fault(f"debug key {key!r} is not in the value trace") from None


class _Handlers(dict):
    """(engine, op) -> its handler, made the first time a program uses the op."""

    def __missing__(self, key: tuple[str, str]) -> Handler:
        handler = self[key] = _handler(isa.BY_MACHINE[key])
        return handler


HANDLERS: dict[tuple[str, str], Handler] = _Handlers()
