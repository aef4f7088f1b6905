"""Batched runs: one program over many memory images at once, with NumPy.

Scratch is a uint32 array with one column per image (row = word address),
memory one with a row per image, so one bundle runs for every image with a few array operations per
slot. uint32 sums, differences and products wrap mod 2**32 as the machine's
do; shifts by 32 or more give 0 as the machine says (the ISA table holds each
op's array expression). Addresses are computed in int64, so `base + lane`
past 2**32 is out of range, not wrapped.

Images run in groups that share a pc. A data-dependent jump that goes both
ways splits its group in two, and each part continues alone (groups are not
merged again). A fault stops only the images it happens in: their bundle is
replayed by the reference engine, which produces the very EmuError `emu.run`
raises, and they leave the group with the state from before the bundle.

Pause is not honoured (runs go through pauses) and debug ops are skipped,
as in `emu.run` without `pause` and `debug`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from asm import isa
from asm.gcpause import gc_paused
from asm.kernel import Kernel, bundle_cost

from .machine import RunResult, as_kernel, check_image
from .reference import ReferenceEngine
from .state import EmuError, State, Status

W = np.uint32
MASK = 0xFFFFFFFF
VLEN = isa.VLEN
LANES = np.arange(VLEN, dtype=np.int64)[:, None]


@dataclass
class _Effects:
    """What one bundle does to one group, before it is committed."""

    k: int
    cols: np.ndarray  # 0..k-1, for gathers and scatters
    scratch: list = field(default_factory=list)  # (row or slice, values)
    mem: list = field(default_factory=list)  # (addresses, values)
    trace: list = field(default_factory=list)
    bad: np.ndarray | None = None  # images that fault in this bundle
    jump: tuple | None = None
    stop: Status | None = None

    def fault(self, mask) -> None:
        self.bad = mask if self.bad is None else (self.bad | mask)


Slot = Callable[[_Effects, np.ndarray, np.ndarray], None]


@functools.cache
def _array_fn(expr: str) -> Callable:
    # The ISA table's own fixed expressions, never user input.
    return eval(compile(f"lambda a, b: {expr}", "<isa-array>", "eval"), {"np": np})  # noqa: S307


def _binary(op: isa.Op, d: int, a: int, b: int) -> Slot:
    fn = _array_fn(op.binary.array or op.binary.expr)
    width = VLEN if op.engine == "valu" else 1
    dst = slice(d, d + VLEN) if width > 1 else d
    src_a = slice(a, a + VLEN) if width > 1 else a
    src_b = slice(b, b + VLEN) if width > 1 else b
    if op.binary.divides:
        def run(fx, S, M):
            y = S[src_b]
            zero = y == 0
            if zero.any():
                fx.fault(zero.any(axis=0) if width > 1 else zero)
                y = np.where(zero, W(1), y)
            fx.scratch.append((dst, fn(S[src_a], y).astype(W, copy=False)))
    else:
        def run(fx, S, M):
            fx.scratch.append((dst, fn(S[src_a], S[src_b]).astype(W, copy=False)))
    return run


def _gather(fx: _Effects, M: np.ndarray, addr: np.ndarray) -> np.ndarray:
    ok = addr < M.shape[1]
    if not ok.all():
        fx.fault(~ok if addr.ndim == 1 else ~ok.all(axis=0))
        addr = np.where(ok, addr, 0)
    return M[fx.cols, addr]


def _scatter(fx: _Effects, M: np.ndarray, addr: np.ndarray, values: np.ndarray) -> None:
    # A copy: `addr` may be a row of scratch that this bundle writes before
    # its memory writes are committed.
    addr = np.array(addr, dtype=np.int64)
    ok = addr < M.shape[1]
    if not ok.all():
        fx.fault(~ok if addr.ndim == 1 else ~ok.all(axis=0))
        addr = np.where(ok, addr, 0)
    if addr.ndim == 1:
        fx.mem.append((addr, values))
    else:  # lane by lane, so the last lane wins a repeated address, as in order
        for lane in range(addr.shape[0]):
            fx.mem.append((addr[lane], values[lane]))


V = VLEN


def _vbroadcast(pc, d, s):
    return lambda fx, S, M: fx.scratch.append((slice(d, d + V), np.repeat(S[s][None], V, 0)))


def _multiply_add(pc, d, a, b, c):
    return lambda fx, S, M: fx.scratch.append(
        (slice(d, d + V), S[a:a + V] * S[b:b + V] + S[c:c + V]))


def _load(pc, d, a):
    return lambda fx, S, M: fx.scratch.append((d, _gather(fx, M, S[a])))


def _load_offset(pc, d, a, imm):
    return lambda fx, S, M: fx.scratch.append((d + imm, _gather(fx, M, S[a + imm])))


def _vload(pc, d, a):
    return lambda fx, S, M: fx.scratch.append(
        (slice(d, d + V), _gather(fx, M, S[a].astype(np.int64)[None] + LANES)))


def _const(pc, d, imm):
    value = imm & MASK
    return lambda fx, S, M: fx.scratch.append((d, np.full(fx.k, value, dtype=W)))


def _store(pc, a, s):
    return lambda fx, S, M: _scatter(fx, M, S[a], S[s].copy())


def _vstore(pc, a, s):
    return lambda fx, S, M: _scatter(fx, M, S[a].astype(np.int64)[None] + LANES,
                                     S[s:s + V].copy())


def _select(pc, d, c, a, b):
    return lambda fx, S, M: fx.scratch.append((d, np.where(S[c] != 0, S[a], S[b])))


def _vselect(pc, d, c, a, b):
    return lambda fx, S, M: fx.scratch.append(
        (slice(d, d + V), np.where(S[c:c + V] != 0, S[a:a + V], S[b:b + V])))


def _add_imm(pc, d, a, imm):
    value = W(imm & MASK)
    return lambda fx, S, M: fx.scratch.append((d, S[a] + value))


def _halt(pc):
    def halt(fx, S, M):
        fx.stop = Status.HALTED
    return halt


def _nothing(pc, *args):
    return None  # pause (not honoured in batches), comment


def _trace_write(pc, s):
    return lambda fx, S, M: fx.trace.append(S[s].copy())


# A taken jump outside 0..len(program) faults (docs/isa.md); `n` is the
# program's length.
def _cond_jump(pc, c, target, n, *, relative: bool = False):
    if relative:
        target = pc + 1 + target
    inside = 0 <= target <= n

    def cond_jump(fx, S, M):
        taken = S[c] != 0
        if not inside and taken.any():
            fx.fault(taken)
        fx.jump = ("cond", taken, target)
    return cond_jump


def _jump(pc, target, n):
    def jump(fx, S, M):
        if not 0 <= target <= n:
            fx.fault(np.ones(fx.k, dtype=bool))
        fx.jump = ("always", target)
    return jump


def _jump_indirect(pc, a, n):
    def jump_indirect(fx, S, M):
        outside = S[a] > n
        if outside.any():
            fx.fault(outside)
        fx.jump = ("indirect", S[a].copy())
    return jump_indirect


def _coreid(pc, d):
    return lambda fx, S, M: fx.scratch.append((d, np.zeros(fx.k, dtype=W)))


_BUILDERS: dict[str, Callable[..., Slot | None]] = {
    "vbroadcast": _vbroadcast, "multiply_add": _multiply_add, "load": _load,
    "load_offset": _load_offset, "vload": _vload, "const": _const, "store": _store,
    "vstore": _vstore, "select": _select, "vselect": _vselect, "add_imm": _add_imm,
    "halt": _halt, "pause": _nothing, "comment": _nothing, "trace_write": _trace_write,
    "coreid": _coreid,
}
# Jumps also need the program's length.
_JUMPS: dict[str, Callable[..., Slot | None]] = {
    "cond_jump": _cond_jump,
    "cond_jump_rel": lambda pc, c, imm, n: _cond_jump(pc, c, imm, n, relative=True),
    "jump": _jump, "jump_indirect": _jump_indirect,
}


def _slot(op: isa.Op, args: tuple, pc: int, n: int) -> Slot | None:
    if op.binary is not None:
        return _binary(op, *args)
    if op.name in _JUMPS:
        return _JUMPS[op.name](pc, *args, n)
    return _BUILDERS[op.name](pc, *args)


def _compile(kernel: Kernel) -> list[tuple[list[Slot], int]]:
    """Each bundle as its slot functions (debug slots dropped) and its cycle cost."""
    out = []
    done: dict[int, tuple[list[Slot], int]] = {}
    for pc, bundle in enumerate(kernel.program):
        has_jump = "flow" in bundle
        if not has_jump and id(bundle) in done:  # relative jumps depend on pc
            out.append(done[id(bundle)])
            continue
        slots = []
        for engine, items in bundle.items():
            if engine == "debug":
                continue
            for slot in items:
                f = _slot(isa.lookup(engine, slot[0]), tuple(slot[1:]), pc,
                          len(kernel.program))
                if f is not None:
                    slots.append(f)
        entry = (slots, bundle_cost(bundle))
        if not has_jump:
            done[id(bundle)] = entry
        out.append(entry)
    return out


class BatchResult(RunResult):
    """One image's RunResult; its memory and scratch lists are made from the
    batch's arrays when first read (most callers read only the values)."""

    def __init__(self, cycles: int, M: np.ndarray, S: np.ndarray, column: int,
                 trace_buffer: list[int], pc: int, status: Status,
                 error: EmuError | None) -> None:
        self.cycles, self.trace_buffer, self.pc, self.status = cycles, trace_buffer, pc, status
        self.machine, self.error = None, error
        self._arrays = (M, S, column)
        self._mem: list[int] | None = None
        self._scratch: list[int] | None = None

    @property
    def mem(self) -> list[int]:
        if self._mem is None:
            M, _, j = self._arrays
            self._mem = M[j].tolist()
        return self._mem

    @property
    def scratch(self) -> list[int]:
        if self._scratch is None:
            _, S, j = self._arrays
            self._scratch = S[:, j].tolist()
        return self._scratch


@dataclass
class _Group:
    images: np.ndarray  # indices into the caller's list
    S: np.ndarray
    M: np.ndarray
    pc: int = 0
    cycle: int = 0
    trace: list = field(default_factory=list)

    def take(self, keep: np.ndarray) -> _Group:
        return _Group(self.images[keep], self.S[:, keep], self.M[keep], self.pc, self.cycle,
                      [t[keep] for t in self.trace])


class _Batch:
    def __init__(self, kernel: Kernel, max_cycles: int | None) -> None:
        self.kernel = kernel
        self.code = _compile(kernel)
        self.max_cycles = max_cycles
        self.results: dict[int, RunResult] = {}

    def finish(self, g: _Group, status: Status, columns=None,
               errors: list[EmuError | None] | None = None) -> None:
        columns = range(len(g.images)) if columns is None else columns
        traces = np.array(g.trace, dtype=W).T if g.trace else None
        for n, j in enumerate(columns):
            self.results[int(g.images[j])] = BatchResult(
                g.cycle, g.M, g.S, j, traces[j].tolist() if traces is not None else [], g.pc,
                status, errors[n] if errors else None)

    def fault(self, g: _Group, bad: np.ndarray) -> _Group | None:
        """Images `bad` fault at g.pc: the reference engine names the fault."""
        columns = np.flatnonzero(bad)
        errors = []
        for j in columns:
            state = State(g.S[:, j].tolist(), g.M[j].tolist(), g.pc, g.cycle,
                          [int(t[j]) for t in g.trace])
            try:
                ReferenceEngine(self.kernel).step(state)
            except EmuError as e:
                errors.append(e)
            else:  # pragma: no cover - the fault checks here and there disagree
                raise AssertionError(f"batched run saw a fault at pc {g.pc} that the "
                                     "reference engine does not")
        self.finish(g, Status.FAULTED, columns, errors)
        keep = ~bad
        return g.take(keep) if keep.any() else None

    def run(self, groups: list[_Group]) -> None:
        code, n = self.code, len(self.code)
        while groups:
            g = groups.pop()
            while True:
                if g.pc >= n:
                    self.finish(g, Status.FINISHED)
                    break
                slots, cost = code[g.pc]
                k = len(g.images)
                fx = _Effects(k, np.arange(k))
                S, M = g.S, g.M
                for f in slots:
                    f(fx, S, M)
                if fx.bad is not None and fx.bad.any():
                    rest = self.fault(g, fx.bad)
                    if rest is None:
                        break
                    g = rest
                    continue  # replay the bundle for the images that did not fault
                for where, values in fx.scratch:
                    S[where] = values
                for addr, values in fx.mem:
                    M[fx.cols, addr] = values
                g.trace.extend(fx.trace)
                g.cycle += cost
                pc = g.pc
                g.pc = pc + 1
                if fx.jump is not None:
                    g = self.jump(g, fx.jump, pc, groups)
                    if g is None:
                        break
                if fx.stop is not None:
                    self.finish(g, fx.stop)
                    break

    def jump(self, g: _Group, jump: tuple, pc: int, groups: list[_Group]) -> _Group | None:
        """Follow a jump; parts of the group that go elsewhere join `groups`.
        Returns the part that goes on here (None if it stopped)."""
        kind = jump[0]
        if kind == "always":
            g.pc = jump[1]
        elif kind == "cond":
            taken, target = jump[1], jump[2]
            if not taken.any():
                return g
            if not taken.all():  # the images go both ways
                other = g.take(~taken)
                other.pc = pc + 1
                groups.append(other)
                g = g.take(taken)
            g.pc = target
        else:
            targets = jump[1]
            first = targets.min()
            for t in np.unique(targets)[1:]:
                part = g.take(targets == t)
                part.pc = int(t)
                if not self.over_limit(part, pc):
                    groups.append(part)
            if (targets != first).any():
                g = g.take(targets == first)
            g.pc = int(first)
        return None if self.over_limit(g, pc) else g

    def over_limit(self, g: _Group, pc: int) -> bool:
        """After a taken jump: past --max-cycles, the images stop with a fault."""
        if self.max_cycles is None or g.cycle <= self.max_cycles:
            return False
        error = EmuError(f"cycle limit of {self.max_cycles} exceeded (at a taken jump)",
                         kernel=self.kernel, pc=pc, cycle=g.cycle)
        self.finish(g, Status.FAULTED, errors=[error] * len(g.images))
        return True


def run_batch(program: Kernel | Sequence | dict, mems: Sequence[Sequence[int]], *,
              max_cycles: int | None = None) -> list[RunResult]:
    """Run `program` on every image of `mems`; the result for each image equals
    `emu.run(program, mem)` (cycles, memory, scratch, trace buffer, pc, status).

    An image that faults gets `status` FAULTED and `error` (the EmuError
    `emu.run` would raise), with the state from before the faulting bundle.
    Images of different lengths run in separate batches.
    """
    with gc_paused():  # many small closures and arrays, no cycles among them
        kernel = as_kernel(program)
        batch = _Batch(kernel, max_cycles)
        by_length: dict[int, list[int]] = {}
        for i, m in enumerate(mems):
            by_length.setdefault(len(m) if isinstance(m, list | tuple) else -1, []).append(i)
        groups = []
        for members in by_length.values():
            M = _images([mems[i] for i in members])
            S = np.zeros((isa.SCRATCH_SIZE, len(members)), dtype=W)
            groups.append(_Group(np.array(members), S, M))
        batch.run(groups)
        return [batch.results[i] for i in range(len(mems))]


def _images(mems: list[Sequence[int]]) -> np.ndarray:
    """Images of one length as the rows of an array, checked as
    `check_image` checks them (with its messages), at C speed when good."""
    if all(isinstance(m, list | tuple) and set(map(type, m)) <= {int} for m in mems):
        try:
            a = np.array(mems, dtype=np.int64)
        except OverflowError:
            a = None
        if a is not None and (a.size == 0 or (a.min() >= 0 and a.max() <= MASK)):
            return a.astype(W)
    for m in mems:
        check_image(m)  # raises the precise ImageError
    raise AssertionError("unreachable: a bad image passed check_image")  # pragma: no cover
