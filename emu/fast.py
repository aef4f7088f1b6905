"""The fast engine: the program decoded once into prebound closures.

Every bundle becomes one Python callable over the live scratch and memory
lists. A bundle of one slot writes straight into scratch (the slot reads
everything it needs before it writes). A bundle of several slots runs in two
phases like the machine: every slot computes its results from the state at
the start of the bundle, then the writes are applied in engine and slot order,
so the later write to a word wins.

Runtime faults are never diagnosed here. Any closure that can fault does so
before it changes anything, so on an exception the bundle is replayed on the
reference engine, which raises the precise EmuError (pc, engine, slot). The
normal path pays nothing for that.

Closures of equal slots are shared (kernels repeat slots a lot), which makes
decoding cheap enough to pay off even for code that runs once.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
from collections.abc import Callable
from types import MethodType, SimpleNamespace
from typing import Any

from asm import isa
from asm.gcpause import gc_paused
from asm.kernel import bundle_cost

from .effects import (
    CHECK,
    HALT,
    MEMORY,
    SCRATCH,
    TRACE,
    CompareFault,
    JumpFault,
    MemFault,
    kind_of,
)
from .generated_fast import FORMS
from .reference import ReferenceEngine
from .state import EmuError, Engine, State, Status

VLEN = isa.VLEN


# What a closure raises on a fault (the bundle is then replayed on the
# reference engine, which names the fault). ValueError: a vector slice that
# came up short (unpacked into VLEN names).
_FAULTS = (ZeroDivisionError, IndexError, KeyError, ValueError, MemFault, CompareFault,
           JumpFault)


def _nop() -> None:
    return None


# ------------------------------------------------------ each op's code
# Generated from each op's meaning in the ISA table (emu/codegen.py writes
# emu/generated_fast.py):
#   cold(s, m, slot) -> what it produces             interpreted code
#   direct(x, pc, *operands) -> f()                  a one-slot bundle
#   staged(x, pc, *operands) -> (compute, kind, key) a slot of a larger bundle
_FORMS = FORMS
# Slots whose code depends on their own bundle's pc (a relative jump): made per bundle.
_USES_PC = frozenset((op.engine, op.name) for op in isa.OPS if op.meaning.uses_pc)


# ------------------------------------------------------------ cold tier
# Code that runs once is interpreted: decoding it into closures costs more
# than it saves. SCRATCH and MEMORY handlers return (key, value), TRACE
# handlers the value to append; control flow and debug ops are never cold.


def _cold_tables() -> dict[str, tuple[int | None, dict[str, Any]]]:
    """engine -> (the kind every cold handler of the engine has, {op: handler}),
    or (None, {op: (kind, handler)}) for an engine of mixed kinds. Control flow
    and debug ops are never cold; pause is cold only when pausing is off, and
    then does nothing."""
    tables: dict[str, tuple[int | None, dict[str, Any]]] = {}
    for engine in isa.ENGINES:
        handlers = {}
        for op in isa.OPS:
            if op.engine != engine:
                continue
            if op.meaning.stop == "pause":
                handlers[op.name] = (CHECK, _nop)
            else:
                handlers[op.name] = (kind_of(op), _FORMS[engine, op.name][0])
        kinds = {kind for kind, _ in handlers.values()}
        if len(kinds) == 1 and kinds <= {SCRATCH, MEMORY, TRACE}:
            tables[engine] = kinds.pop(), {name: h for name, (_, h) in handlers.items()}
        else:
            tables[engine] = None, handlers
    return tables


_COLD = _cold_tables()


def _interpreter(s: list[int], m: list[int], trace: list[int]) -> Callable[[dict], None]:
    """One bundle without control flow or enabled debug slots, interpreted."""
    tables = _COLD

    def interpret(bundle: dict) -> None:
        sw: list = []
        write = sw.append
        mw = None
        tr = None
        for engine, slots in bundle.items():
            kind, table = tables[engine]
            if kind is SCRATCH:  # alu, valu, load
                for slot in slots:
                    write(table[slot[0]](s, m, slot))
            elif kind is MEMORY:  # store
                mw = [table[slot[0]](s, m, slot) for slot in slots]
            elif engine != "debug":  # cold code runs with debug slots off
                for slot in slots:
                    slot_kind, h = table[slot[0]]
                    if slot_kind is SCRATCH:
                        write(h(s, m, slot))
                    elif slot_kind is TRACE:
                        tr = h(s, m, slot)
        for key, value in sw:  # in order: the later write to a word wins
            s[key] = value
        if mw is not None:
            for key, value in mw:
                m[key] = value
        if tr is not None:
            trace.append(tr)
    return interpret


class FastEngine(Engine):
    name = "fast"
    _decoded_for: State | None = None

    # ------------------------------------------------------------ running

    def run(self, state: State) -> None:
        """Run from state.pc until the program ends, halts or pauses."""
        if state.stopped:
            return
        # Running makes only short-lived acyclic objects (values, slices, the
        # lists of writes), which reference counting frees; the cyclic collector
        # would keep scanning the decoded program for nothing.
        with gc_paused():
            if self._decoded_for is not state:
                self._decode_all(state)
            self._run(state)

    def _run(self, state: State) -> None:
        control, blocks = self._control_at, self._blocks
        n = len(self._index)
        limit = self.max_cycles if self.max_cycles is not None else -1
        pc, cycle = state.pc, state.cycle
        status = Status.FINISHED
        while pc < n:
            # A straight-line block from pc up to the next control bundle.
            block = blocks.get(pc)
            if block is None:  # first time here: code that repeats is decoded
                block = blocks[pc] = self._block(pc, self._first_fn)
            elif block[3] is not True:  # second time: a loop, decode all of it
                block = blocks[pc] = self._block(pc, self._hot_fns(pc, block[2]))
            seg, seg_cost, end, _ = block
            it = iter(seg)
            try:
                for f in it:
                    f()
            except _FAULTS:
                fns = self._hot if block[3] is True else self._first_fn
                self._replay_in_block(state, pc, end, len(seg) - it.__length_hint__() - 1,
                                      cycle, fns)
            cycle += seg_cost
            pc = end
            if pc >= n:
                break
            # The control bundle that ends the block.
            f, cost = control[pc]
            cycle += cost
            pc += 1
            try:
                r = f()
            except _FAULTS:
                self.replay_fault(state, pc - 1, cycle - cost)
            if r is None:
                continue
            if r >= 0:
                if cycle > limit >= 0:
                    state.pc, state.cycle = r, cycle
                    raise EmuError.cycle_limit(limit, kernel=self.kernel, pc=pc - 1, cycle=cycle)
                pc = r
            elif r == HALT:
                status = Status.HALTED
                break
            else:
                status = Status.PAUSED
                break
        state.pc, state.cycle, state.status = pc, cycle, status

    def _block(self, pc: int, fns: list) -> tuple[list[Callable], int, int, bool]:
        """(callables to run, cycles, end pc, hot?) of the straight line from pc."""
        i = bisect.bisect_left(self._control_pcs, pc)
        end = self._control_pcs[i] if i < len(self._control_pcs) else len(self._index)
        part = self._index[pc:end]
        seg = list(filter(functools.partial(operator.is_not, _nop),
                          map(fns.__getitem__, part)))
        return seg, sum(map(self._cost_of.__getitem__, part)), end, fns is not self._first_fn

    def _hot_fns(self, pc: int, end: int) -> list:
        """The decoded callables, decoding what the block from pc needs."""
        hot, distinct = self._hot, self._distinct_bundles
        for u in set(self._index[pc:end]):
            if hot[u] is None:
                hot[u] = self._decode_bundle(distinct[u], -1)
        return hot

    def _replay_in_block(self, state: State, pc: int, end: int, k: int, cycle: int,
                         fn_of: list) -> None:
        """The k-th callable of the block at pc faulted: find its bundle, then replay.
        `fn_of` is the table the block was built from (cold and hot tables skip
        different bundles as no-ops)."""
        cost_of = self._cost_of
        for at in range(pc, end):
            u = self._index[at]
            if fn_of[u] is not _nop:
                if k == 0:
                    self.replay_fault(state, at, cycle)
                k -= 1
            cycle += cost_of[u]
        raise AssertionError("fault outside its block")

    def replay_fault(self, state: State, pc: int, cycle: int) -> None:
        """Re-run a faulting bundle on the reference engine for the precise error.

        Closures (and the compiled core) fault before they write, so the state
        is the one the bundle saw.
        """
        state.pc, state.cycle = pc, cycle
        raise ReferenceEngine(self.kernel, pause=self.pause, debug=self.debug,
                              value_trace=self.value_trace).fault(state)

    # ------------------------------------------------------------ decoding

    def _decode_all(self, state: State) -> None:
        """Decode each distinct bundle once (a Kernel shares equal bundles)."""
        self._s, self._m, self._tb = state.scratch, state.mem, state.trace_buffer
        # What the generated closures bind to.
        self._x = SimpleNamespace(s=state.scratch, m=state.mem, tb=state.trace_buffer,
                                  vt=self.value_trace, n=len(self.kernel.program),
                                  pause=self.pause)
        self._staged_memo: dict[tuple, tuple[Callable, int, Any] | None] = {}
        distinct, index, counts = self.kernel.distinct()
        interpret = _interpreter(self._s, self._m, self._tb)
        # By default a bundle is interpreted the first time through (a method
        # object binds it to `interpret` more cheaply than a closure or a
        # partial), costs a cycle, and is decoded only if its block runs again
        # (hot is filled lazily).
        n = len(distinct)
        first: list[Callable | None] = [None] * n
        hot: list[Callable | None] = [None] * n
        cost_of = [1] * n
        skip_debug = not self.debug
        controls: list[int] = []
        for u, bundle in enumerate(distinct):
            # The exceptions: bundles with debug or flow slots, that repeat, or empty.
            if "debug" in bundle:
                if skip_debug and len(bundle) == 1:
                    first[u] = hot[u] = _nop
                    cost_of[u] = 0
                    continue
            elif counts[u] == 1 and "flow" not in bundle and bundle:
                first[u] = MethodType(interpret, bundle)
                continue
            cost_of[u] = bundle_cost(bundle)
            if self._is_control(bundle):  # decoded per pc: a relative jump needs its pc
                first[u] = None
                controls.append(u)
            elif counts[u] > 1 or (self.debug and "debug" in bundle):
                first[u] = hot[u] = self._decode_bundle(bundle, -1)
            else:
                first[u] = MethodType(interpret, bundle)
        control_pcs: list[int] = []
        if controls:
            is_control = [False] * n
            for u in controls:
                is_control[u] = True
            control_pcs = list(itertools.compress(
                range(len(index)), map(is_control.__getitem__, index)))
        self._control_at = {
            pc: (self._decode_bundle(self.kernel.program[pc], pc), cost_of[index[pc]])
            for pc in control_pcs
        }
        self._first_fn, self._hot, self._cost_of, self._index = first, hot, cost_of, index
        self._distinct_bundles = distinct
        self._control_pcs = control_pcs
        self._blocks: dict[int, tuple[list[Callable], int, int, bool]] = {}
        self._decoded_for = state

    def _is_control(self, bundle: dict) -> bool:
        for slot in bundle.get("flow", ()):
            control = isa.BY_MACHINE[("flow", slot[0])].control
            if control is not None and (control is not isa.Control.PAUSE or self.pause):
                return True
        return False

    def _decode_bundle(self, bundle: dict, pc: int) -> Callable:
        if len(bundle) == 1:
            [(engine, slots)] = bundle.items()
            if len(slots) == 1:
                if engine == "debug" and not self.debug:
                    return _nop
                return self._single(engine, slots[0], pc) or _nop
        return self._bundle(bundle, pc) or _nop

    def _single(self, engine: str, slot: tuple, pc: int) -> Callable | None:
        return _FORMS[engine, slot[0]][1](self._x, pc, *slot[1:])

    def _bundle(self, bundle: dict, pc: int) -> Callable | None:
        """A multi-slot bundle: compute every slot, then apply the writes in order.

        Computes only read, so their order is free: they are grouped by what
        they produce. Writes to one list keep engine and slot order, so the
        later write to a word wins.
        """
        groups: list[list[tuple[Callable, int, Any]]] = [[], [], [], [], []]
        memo = self._staged_memo
        for engine, slots in bundle.items():
            if engine == "debug" and not self.debug:
                continue
            for slot in slots:
                key = (engine, slot)
                part = memo.get(key, memo)
                if part is memo:
                    part = self._staged(engine, slot, pc)
                    if (engine, slot[0]) not in _USES_PC:
                        memo[key] = part
                if part is not None:
                    groups[part[1]].append(part)
        scratch, memory, checks, trace, control = groups
        tail = trace or control
        computes = tuple(p[0] for group in groups for p in group)
        if not computes:
            return None
        if len(computes) == 1 and tail:
            return computes[0] if control else lambda: computes[0]()()
        keys = tuple(p[2] for p in scratch)
        sset, mset = self._s.__setitem__, self._m.__setitem__
        ns, nm = len(scratch), len(memory)
        if not memory and not tail:
            def run():
                any(map(sset, keys, [c() for c in computes]))
            return run
        is_control = bool(control)

        def run_general():
            values = [c() for c in computes]
            any(map(sset, keys, values))
            if nm:
                any(itertools.starmap(mset, values[ns:ns + nm]))
            if tail:
                if is_control:
                    return values[-1]
                values[-1]()
            return None
        return run_general

    def _staged(self, engine: str, slot: tuple, pc: int) -> tuple[Callable, int, Any] | None:
        return _FORMS[engine, slot[0]][2](self._x, pc, *slot[1:])


def missing_handlers() -> list[str]:
    """Ops of the table this engine cannot run (a test keeps this empty)."""
    return [op.name for op in isa.OPS if (op.engine, op.name) not in _FORMS]
