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
import re
from collections.abc import Callable
from types import MethodType
from typing import Any

from asm import isa
from asm.gcpause import gc_paused
from asm.kernel import bundle_cost

from .reference import ReferenceEngine
from .state import EmuError, Engine, State, Status

VLEN = isa.VLEN
M = isa.WORD_MASK
HALT = -1
PAUSE = -2


class _MemFault(Exception):
    """A vector memory access that would run off the image (slices do not raise)."""


class _CompareFault(Exception):
    pass


# ValueError: a vector slice that came up short (unpacked into VLEN names).
_FAULTS = (ZeroDivisionError, IndexError, KeyError, ValueError, _MemFault, _CompareFault)


def _nop() -> None:
    return None


# What a staged (multi-slot) compute result is: a value for a fixed scratch
# key (an int or a slice), a (key, value) memory write, a debug check with no
# result, a deferred trace append, or a control-flow result.
SCRATCH, MEMORY, CHECK, TRACE, CONTROL = range(5)

# ------------------------------------------------------ generated op code
# Lane-wise ops are generated once, unrolled over the VLEN lanes with direct
# indexing (about 3x faster than map() or a comprehension over slices), from
# the ISA table's expression over the words a and b. Each op gets three forms:
#   cold(s, m, d, *srcs) -> (scratch key, value)   interpreted code
#   direct(s, d, *srcs) -> f()                     a one-slot bundle
#   staged(s, *srcs) -> f() -> value               a slot of a larger bundle

# The slice of each vector in scratch, made once (a lookup is cheaper than
# building a slice; both are shorter than VLEN near the end, which unpacking
# into VLEN names reports as a fault).
_VECTORS = [slice(a, a + VLEN) for a in range(isa.SCRATCH_SIZE)]

_LANEWISE_TEMPLATE = """
def cold(s, m, slot, V=VECTORS):
    _, d, {params} = slot
{unpack}
    return V[d], [{cold_lanes}]
def direct(s, d, {params}):
    de = d + VLEN
    def f():
        s[d:de] = [{lanes}]
    return f
def staged(s, {params}):
    def f():
        return [{lanes}]
    return f
"""
_ALU_TEMPLATE = """
def cold(s, m, slot):
    _, d, x, y = slot
    a = s[x]; b = s[y]
    return d, {expr}
def direct(s, d, x, y):
    def f():
        a = s[x]; b = s[y]
        s[d] = {expr}
    return f
def staged(s, x, y):
    def f():
        a = s[x]; b = s[y]
        return {expr}
    return f
"""


def _generate(template: str, **fields: str) -> tuple[Callable, Callable, Callable]:
    namespace: dict[str, Any] = {"VLEN": VLEN, "VECTORS": _VECTORS}
    exec(template.format(**fields), namespace)  # noqa: S102 (our own table's expressions)
    return namespace["cold"], namespace["direct"], namespace["staged"]


def _lanewise(params: str, lane: str) -> tuple[Callable, Callable, Callable]:
    """`lane` is one lane's expression over the vector operands named in
    `params`, as {x} for lane {i} of operand x (a subscript of s in closures
    that live on, a local unpacked from a slice in code that runs once)."""
    names = [p.strip() for p in params.split(",")]

    def lanes(operand) -> str:
        return ", ".join(
            f"({lane.format(**{n: operand(n, i) for n in names})})" for i in range(VLEN))
    unpack = "\n".join(
        f"    {', '.join(f'{n}{i}' for i in range(VLEN))} = s[V[{n}]]" for n in names)
    return _generate(
        _LANEWISE_TEMPLATE, params=params, unpack=unpack,
        lanes=lanes(lambda n, i: f"s[{n} + {i}]" if i else f"s[{n}]"),
        cold_lanes=lanes(lambda n, i: f"{n}{i}"))


def _binary_lane(expr: str) -> str:
    """'a ^ b' -> '{x} ^ {y}' (a and b are pure reads, so repeats are fine)."""
    expr = expr.replace("{", "{{").replace("}", "}}")
    expr = re.sub(r"\ba\b", "{x}", expr)
    return re.sub(r"\bb\b", "{y}", expr)


def _op_code(op: isa.Op) -> tuple[Callable, Callable, Callable]:
    if op.engine == "alu":
        return _generate(_ALU_TEMPLATE, expr=op.binary.expr)
    return _lanewise("x, y", _binary_lane(op.binary.expr))


_CODE: dict[tuple[str, str], tuple[Callable, Callable, Callable]] = {
    (op.engine, op.name): _op_code(op) for op in isa.OPS if op.binary is not None
}
_CODE[("valu", "multiply_add")] = _lanewise("a, b, c", "({a} * {b} + {c}) & 0xFFFFFFFF")
_CODE[("flow", "vselect")] = _lanewise("c, a, b", "{a} if {c} else {b}")
# The staged and direct forms of these are the generated ones.
_ARITH = {key: (code[1], code[2]) for key, code in _CODE.items()}


# ------------------------------------------------------------ cold tier
# Code that runs once is interpreted: decoding it into closures costs more
# than it saves. Handlers take (scratch, memory, slot) and only read; SCRATCH
# and MEMORY handlers return (key, value), CHECK handlers return nothing,
# TRACE handlers the value to append.

def _cold_vload(s, m, slot, V=_VECTORS):
    _, d, x = slot
    a = s[x]
    if a > len(m) - VLEN:
        raise _MemFault
    return V[d], m[a:a + VLEN]


def _cold_load_offset(s, m, slot):
    _, d, x, o = slot
    return d + o, m[s[x + o]]


def _cold_store(s, m, slot):
    _, x, y = slot
    a = s[x]
    if a >= len(m):
        raise _MemFault
    return a, s[y]


def _cold_vstore(s, m, slot, V=_VECTORS):
    _, x, y = slot
    a = s[x]
    if a > len(m) - VLEN:
        raise _MemFault
    return slice(a, a + VLEN), s[V[y]]


def _cold_select(s, m, slot):
    _, d, c, a, b = slot
    return d, s[a] if s[c] else s[b]


def _cold_add_imm(s, m, slot):
    _, d, a, imm = slot
    return d, (s[a] + imm) & M


_COLD_SPECIAL: dict[str, tuple[int, Callable]] = {
    "vbroadcast": (SCRATCH, lambda s, m, slot, V=_VECTORS: (V[slot[1]], [s[slot[2]]] * VLEN)),
    "load": (SCRATCH, lambda s, m, slot: (slot[1], m[s[slot[2]]])),
    "load_offset": (SCRATCH, _cold_load_offset),
    "vload": (SCRATCH, _cold_vload),
    "const": (SCRATCH, lambda s, m, slot: (slot[1], slot[2] & M)),
    "store": (MEMORY, _cold_store),
    "vstore": (MEMORY, _cold_vstore),
    "select": (SCRATCH, _cold_select),
    "add_imm": (SCRATCH, _cold_add_imm),
    "coreid": (SCRATCH, lambda s, m, slot: (slot[1], 0)),
    "trace_write": (TRACE, lambda s, m, slot: s[slot[1]]),
    "pause": (CHECK, lambda s, m, slot: None),  # cold only when pausing is off
}


def _cold_handler(op: isa.Op) -> tuple[int, Callable] | None:
    code = _CODE.get((op.engine, op.name))
    if code is not None:
        return SCRATCH, code[0]
    return _COLD_SPECIAL.get(op.name)  # None: control flow and debug, never cold


def _cold_tables() -> dict[str, tuple[int | None, dict[str, Any]]]:
    """engine -> (the kind every handler of the engine has, {op: handler}), or
    (None, {op: (kind, handler)}) for an engine of mixed kinds."""
    tables: dict[str, tuple[int | None, dict[str, Any]]] = {}
    for engine in isa.ENGINES:
        handlers = {op.name: _cold_handler(op) for op in isa.OPS if op.engine == engine}
        kinds = {h[0] for h in handlers.values() if h is not None}
        if len(kinds) == 1 and None not in handlers.values():
            tables[engine] = kinds.pop(), {name: h[1] for name, h in handlers.items()}
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
                self._replay(state, pc - 1, cycle - cost)
            if r is None:
                continue
            if r >= 0:
                if cycle > limit >= 0:
                    state.pc, state.cycle = r, cycle
                    raise EmuError(f"cycle limit of {limit} exceeded (at a taken jump)",
                                   kernel=self.kernel, pc=pc - 1, cycle=cycle)
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
                    self._replay(state, at, cycle)
                k -= 1
            cycle += cost_of[u]
        raise AssertionError("fault outside its block")

    def _replay(self, state: State, pc: int, cycle: int) -> None:
        """Re-run a faulting bundle on the reference engine for the precise error.

        Closures fault before they write, so the state is the one the bundle saw.
        """
        state.pc, state.cycle = pc, cycle
        ref = ReferenceEngine(self.kernel, pause=self.pause, debug=self.debug,
                              value_trace=self.value_trace)
        ref.step(state)
        raise AssertionError(f"the fast engine faulted at pc {pc} but the reference did not")

    # ------------------------------------------------------------ decoding

    def _decode_all(self, state: State) -> None:
        """Decode each distinct bundle once (a Kernel shares equal bundles)."""
        self._s, self._m, self._tb = state.scratch, state.mem, state.trace_buffer
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
        name = slot[0]
        arith = _ARITH.get((engine, name))
        if arith is not None:
            return arith[0](self._s, *slot[1:])
        return getattr(self, "_d_" + name)(pc, *slot[1:])

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
                    if slot[0] != "cond_jump_rel":
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
        name = slot[0]
        arith = _ARITH.get((engine, name))
        if arith is not None:
            d = slot[1]
            key = d if engine == "alu" else slice(d, d + VLEN)
            return arith[1](self._s, *slot[2:]), SCRATCH, key
        return getattr(self, "_s_" + name)(pc, *slot[1:])

    # ------------------------------------------------- one-slot closures
    # _d_<op>(pc, *operands) -> callable() returning None, a new pc, HALT or
    # PAUSE; or None when the op has no effect in this run.

    def _d_vbroadcast(self, pc, d, x):
        s = self._s
        de = d + VLEN

        def f():
            s[d:de] = [s[x]] * VLEN
        return f

    def _d_load(self, pc, d, x):
        s, m = self._s, self._m

        def f():
            s[d] = m[s[x]]
        return f

    def _d_load_offset(self, pc, d, x, imm):
        s, m = self._s, self._m
        d, x = d + imm, x + imm

        def f():
            s[d] = m[s[x]]
        return f

    def _d_vload(self, pc, d, x):
        s, m = self._s, self._m
        de, end = d + VLEN, len(m) - VLEN

        def f():
            a = s[x]
            if a > end:
                raise _MemFault
            s[d:de] = m[a:a + VLEN]
        return f

    def _d_const(self, pc, d, imm):
        s, v = self._s, imm & M

        def f():
            s[d] = v
        return f

    def _d_store(self, pc, x, y):
        s, m = self._s, self._m

        def f():
            m[s[x]] = s[y]
        return f

    def _d_vstore(self, pc, x, y):
        s, m = self._s, self._m
        ye, end = y + VLEN, len(m) - VLEN

        def f():
            a = s[x]
            if a > end:
                raise _MemFault
            m[a:a + VLEN] = s[y:ye]
        return f

    def _d_select(self, pc, d, c, a, b):
        s = self._s

        def f():
            s[d] = s[a] if s[c] else s[b]
        return f

    def _d_add_imm(self, pc, d, a, imm):
        s = self._s

        def f():
            s[d] = (s[a] + imm) & M
        return f

    def _d_halt(self, pc):
        return lambda: HALT

    def _d_pause(self, pc):
        return (lambda: PAUSE) if self.pause else None

    def _d_trace_write(self, pc, x):
        s, append = self._s, self._tb.append

        def f():
            append(s[x])
        return f

    # A taken jump outside 0..len(program) faults (raised here, replayed on
    # the reference engine, which names it).
    def _d_cond_jump(self, pc, c, target):
        s, inside = self._s, 0 <= target <= len(self.kernel.program)

        def f():
            if s[c]:
                if not inside:
                    raise IndexError
                return target
            return None
        return f

    def _d_cond_jump_rel(self, pc, c, imm):
        return self._d_cond_jump(pc, c, pc + 1 + imm)

    def _d_jump(self, pc, target):
        if 0 <= target <= len(self.kernel.program):
            return lambda: target

        def outside():
            raise IndexError
        return outside

    def _d_jump_indirect(self, pc, a):
        s, n = self._s, len(self.kernel.program)

        def f():
            target = s[a]
            if target > n:
                raise IndexError
            return target
        return f

    def _d_coreid(self, pc, d):
        s = self._s

        def f():
            s[d] = 0
        return f

    def _d_compare(self, pc, x, key):
        s, vt = self._s, self.value_trace

        def f():
            if s[x] != vt[key]:
                raise _CompareFault
        return f

    def _d_vcompare(self, pc, x, keys):
        s, vt = self._s, self.value_trace
        xe = x + VLEN

        def f():
            if s[x:xe] != [vt[k] for k in keys]:
                raise _CompareFault
        return f

    def _d_comment(self, pc, text):
        return None

    # ------------------------------------------------- staged closures
    # _s_<op>(pc, *operands) -> (compute, what it produces, scratch key) or None.
    # compute() only reads; MEMORY computes return (memory key, value).

    def _s_vbroadcast(self, pc, d, x):
        s = self._s
        return (lambda: [s[x]] * VLEN), SCRATCH, slice(d, d + VLEN)

    def _s_load(self, pc, d, x):
        s, m = self._s, self._m
        return (lambda: m[s[x]]), SCRATCH, d

    def _s_load_offset(self, pc, d, x, imm):
        s, m = self._s, self._m
        x = x + imm
        return (lambda: m[s[x]]), SCRATCH, d + imm

    def _s_vload(self, pc, d, x):
        s, m = self._s, self._m
        end = len(m) - VLEN

        def f():
            a = s[x]
            if a > end:
                raise _MemFault
            return m[a:a + VLEN]
        return f, SCRATCH, slice(d, d + VLEN)

    def _s_const(self, pc, d, imm):
        v = imm & M
        return (lambda: v), SCRATCH, d

    def _s_store(self, pc, x, y):
        s, n = self._s, len(self._m)

        def f():
            a = s[x]
            if a >= n:
                raise _MemFault
            return a, s[y]
        return f, MEMORY, None

    def _s_vstore(self, pc, x, y):
        s, end = self._s, len(self._m) - VLEN
        ye = y + VLEN

        def f():
            a = s[x]
            if a > end:
                raise _MemFault
            return slice(a, a + VLEN), s[y:ye]
        return f, MEMORY, None

    def _s_select(self, pc, d, c, a, b):
        s = self._s
        return (lambda: s[a] if s[c] else s[b]), SCRATCH, d

    def _s_add_imm(self, pc, d, a, imm):
        s = self._s
        return (lambda: (s[a] + imm) & M), SCRATCH, d

    def _s_trace_write(self, pc, x):
        # The append waits for the write phase, so a faulting bundle appends nothing.
        s, append = self._s, self._tb.append

        def f():
            v = s[x]
            return lambda: append(v)
        return f, TRACE, None

    def _s_coreid(self, pc, d):
        return (lambda: 0), SCRATCH, d

    def _s_comment(self, pc, text):
        return None

    def _control(self, f: Callable | None) -> tuple[Callable, int, Any] | None:
        return None if f is None else (f, CONTROL, None)

    def _s_halt(self, pc):
        return self._control(self._d_halt(pc))

    def _s_pause(self, pc):
        return self._control(self._d_pause(pc))

    def _s_cond_jump(self, pc, c, target):
        return self._control(self._d_cond_jump(pc, c, target))

    def _s_cond_jump_rel(self, pc, c, imm):
        return self._control(self._d_cond_jump_rel(pc, c, imm))

    def _s_jump(self, pc, target):
        return self._control(self._d_jump(pc, target))

    def _s_jump_indirect(self, pc, a):
        return self._control(self._d_jump_indirect(pc, a))

    def _s_compare(self, pc, x, key):
        return self._d_compare(pc, x, key), CHECK, None

    def _s_vcompare(self, pc, x, keys):
        return self._d_vcompare(pc, x, keys), CHECK, None


def missing_handlers() -> list[str]:
    """Ops of the table this engine cannot run (a test keeps this empty)."""
    missing = []
    for op in isa.OPS:
        if (op.engine, op.name) in _CODE:
            continue
        for prefix in ("_d_", "_s_"):
            if not hasattr(FastEngine, prefix + op.name):
                missing.append(prefix + op.name)
        if op.control is None and op.engine != "debug" and _cold_handler(op) is None:
            missing.append("cold " + op.name)
    return missing
