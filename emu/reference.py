"""The reference engine: a plain interpreter that follows docs/isa.md line by line.

It is the oracle the fast engine is tested against, so it stays simple:
one bundle at a time, every slot reading the state as it was at the start
of the bundle, then all scratch writes, then all memory writes. Handlers are
keyed by the ISA table's ops; arithmetic comes from the table itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asm import isa
from asm.kernel import bundle_cost

from .state import EmuError, Engine, State, Status, word

VLEN = isa.VLEN


class _Fault(Exception):
    """Raised inside a handler; turned into EmuError with the slot's place."""


class _Bundle:
    """The pending effects of one bundle."""

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
        pc = state.pc
        bundle = self.kernel.program[pc]
        effects = _Bundle()
        for engine, slots in bundle.items():
            if engine == "debug" and not self.debug:
                continue
            for i, slot in enumerate(slots):
                try:
                    HANDLERS[(engine, slot[0])](self, state, effects, pc, *slot[1:])
                except _Fault as e:
                    raise EmuError(str(e), kernel=self.kernel, pc=pc, cycle=state.cycle,
                                   engine=engine, slot=i) from None
        # Commit: the bundle has run without fault.
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
                raise EmuError(f"cycle limit of {self.max_cycles} exceeded (at a taken jump)",
                               kernel=self.kernel, pc=pc, cycle=state.cycle)
        if effects.stop is not None:
            state.status = effects.stop


# ------------------------------------------------------------------ handlers
# Each handler gets (engine, state, pending effects, pc, *operands).

Handler = Callable[..., None]


def _read_mem(state: State, addr: int) -> int:
    if not 0 <= addr < len(state.mem):
        raise _Fault(f"memory read at {addr}, outside the image (0..{len(state.mem) - 1})")
    return state.mem[addr]


def _check_store(state: State, addr: int) -> None:
    if not 0 <= addr < len(state.mem):
        raise _Fault(f"memory write at {addr}, outside the image (0..{len(state.mem) - 1})")


def _arith(fn: Callable[[int, int], int]) -> Callable[[int, int], int]:
    def apply(a: int, b: int) -> int:
        try:
            return fn(a, b)
        except ZeroDivisionError:
            raise _Fault(f"division by zero ({a} by {b})") from None
    return apply


def _alu(op: isa.Op) -> Handler:
    f = _arith(op.binary.fn)

    def handler(eng, st, fx, pc, d, a, b):
        fx.scratch[d] = f(st.scratch[a], st.scratch[b])
    return handler


def _valu(op: isa.Op) -> Handler:
    f = _arith(op.binary.fn)

    def handler(eng, st, fx, pc, d, a, b):
        for i in range(VLEN):
            fx.scratch[d + i] = f(st.scratch[a + i], st.scratch[b + i])
    return handler


def _vbroadcast(eng, st, fx, pc, d, s):
    for i in range(VLEN):
        fx.scratch[d + i] = st.scratch[s]


def _multiply_add(eng, st, fx, pc, d, a, b, c):
    for i in range(VLEN):
        fx.scratch[d + i] = word(word(st.scratch[a + i] * st.scratch[b + i]) + st.scratch[c + i])


def _load(eng, st, fx, pc, d, addr):
    fx.scratch[d] = _read_mem(st, st.scratch[addr])


def _load_offset(eng, st, fx, pc, d, addr, imm):
    fx.scratch[d + imm] = _read_mem(st, st.scratch[addr + imm])


def _vload(eng, st, fx, pc, d, addr):
    base = st.scratch[addr]
    for i in range(VLEN):
        fx.scratch[d + i] = _read_mem(st, base + i)


def _const(eng, st, fx, pc, d, imm):
    fx.scratch[d] = word(imm)


def _store(eng, st, fx, pc, addr, s):
    a = st.scratch[addr]
    _check_store(st, a)
    fx.mem[a] = st.scratch[s]


def _vstore(eng, st, fx, pc, addr, s):
    base = st.scratch[addr]
    for i in range(VLEN):
        _check_store(st, base + i)
        fx.mem[base + i] = st.scratch[s + i]


def _select(eng, st, fx, pc, d, cond, a, b):
    fx.scratch[d] = st.scratch[a] if st.scratch[cond] != 0 else st.scratch[b]


def _vselect(eng, st, fx, pc, d, cond, a, b):
    for i in range(VLEN):
        fx.scratch[d + i] = st.scratch[a + i] if st.scratch[cond + i] != 0 else st.scratch[b + i]


def _add_imm(eng, st, fx, pc, d, a, imm):
    fx.scratch[d] = word(st.scratch[a] + imm)


def _halt(eng, st, fx, pc):
    fx.stop = Status.HALTED


def _pause(eng, st, fx, pc):
    if eng.pause:
        fx.stop = Status.PAUSED


def _trace_write(eng, st, fx, pc, s):
    fx.trace.append(st.scratch[s])


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


def _cond_jump(eng, st, fx, pc, cond, target):
    if st.scratch[cond] != 0:
        fx.jump = _jump_to(eng, target)


def _cond_jump_rel(eng, st, fx, pc, cond, imm):
    if st.scratch[cond] != 0:
        fx.jump = _jump_to(eng, pc + 1 + imm)


def _jump(eng, st, fx, pc, target):
    fx.jump = _jump_to(eng, target)


def _jump_indirect(eng, st, fx, pc, a):
    fx.jump = _jump_to(eng, st.scratch[a])


def _coreid(eng, st, fx, pc, d):
    fx.scratch[d] = 0


def _trace_value(eng: ReferenceEngine, key: Any) -> int:
    try:
        return eng.value_trace[key]
    except KeyError:
        raise _Fault(f"debug key {key!r} is not in the value trace") from None


def _compare(eng, st, fx, pc, s, key):
    expected = _trace_value(eng, key)
    if st.scratch[s] != expected:
        raise _Fault(f"debug compare failed for {key!r}: scratch[{s}] = {st.scratch[s]}, "
                     f"expected {expected}")


def _vcompare(eng, st, fx, pc, s, keys):
    expected = [_trace_value(eng, k) for k in keys]
    actual = st.scratch[s:s + VLEN]
    if actual != expected:
        lane = next(i for i in range(VLEN) if actual[i] != expected[i])
        raise _Fault(f"debug vcompare failed in lane {lane} for {keys[lane]!r}: "
                     f"scratch[{s + lane}] = {actual[lane]}, expected {expected[lane]}")


def _comment(eng, st, fx, pc, text):
    pass


_SPECIAL: dict[str, Handler] = {
    "vbroadcast": _vbroadcast, "multiply_add": _multiply_add, "load": _load,
    "load_offset": _load_offset, "vload": _vload, "const": _const, "store": _store,
    "vstore": _vstore, "select": _select, "vselect": _vselect, "add_imm": _add_imm,
    "halt": _halt, "pause": _pause, "trace_write": _trace_write, "cond_jump": _cond_jump,
    "cond_jump_rel": _cond_jump_rel, "jump": _jump, "jump_indirect": _jump_indirect,
    "coreid": _coreid, "compare": _compare, "vcompare": _vcompare, "comment": _comment,
}


def _handler(op: isa.Op) -> Handler:
    if op.binary is not None:
        return _alu(op) if op.engine == "alu" else _valu(op)
    return _SPECIAL[op.name]


HANDLERS: dict[tuple[str, str], Handler] = {
    (op.engine, op.name): _handler(op) for op in isa.OPS
}
