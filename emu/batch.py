"""Batched runs: one program over many memory images at once.

On the compiled core when it takes the program (`_Batch.run_compiled`: the
images in lockstep groups, emu/_core.c); otherwise with NumPy, as follows.
Scratch is a uint32 array with one column per image (row = word address),
memory one with a row per image, so one bundle runs for every image with a few array operations per
slot, generated from the op's meaning in the ISA table (emu/codegen.py).
uint32 sums, differences and products wrap mod 2**32 as the machine's do;
shifts by 32 or more give 0 as the machine says (the table holds an array
expression where the word expression would not be right for arrays).
Addresses are computed in int64, so `base + lane` past 2**32 is out of
range, not wrapped.

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
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from asm import isa
from asm.gcpause import gc_paused
from asm.kernel import Kernel, bundle_cost

from . import native
from .generated_batch import BUILDERS
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


def _slot(op: isa.Op, args: tuple, pc: int, n: int) -> Slot | None:
    """The slot's function, from its op's builder generated from the op's
    meaning in the ISA table (emu/generated_batch.py)."""
    return BUILDERS[op.engine, op.name](pc, n, *args)


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
        # Arithmetic slots of one op share one NumPy operation when no two of
        # the bundle's slots write the same word (then their order cannot matter).
        live = [(isa.BY_MACHINE[e, slot[0]], slot) for e, items in bundle.items()
                if e != "debug" for slot in items]
        grouping = _distinct_writes(live)
        groups: dict[int, tuple[isa.Op, list[tuple]]] = {}  # by id(op): hashing an Op is slow
        for op, slot in live:
            if grouping and op.is_binary and not op.meaning.divides:
                groups.setdefault(id(op), (op, []))[1].append(slot)
                continue
            f = _slot(op, tuple(slot[1:]), pc, len(kernel.program))
            if f is not None:
                slots.append(f)
        for op, members in groups.values():
            if len(members) == 1:
                slots.append(_slot(op, tuple(members[0][1:]), pc, len(kernel.program)))
            else:
                slots.append(_grouped(op, members))
        entry = (slots, bundle_cost(bundle))
        if not has_jump:
            done[id(bundle)] = entry
        out.append(entry)
    return out


def _distinct_writes(live: list[tuple[isa.Op, tuple]]) -> bool:
    """Whether no two of the slots write one word (a set of ranges, built in C)."""
    written: set[int] = set()
    total = 0
    for op, slot in live:
        off = slot[op.offset_index] if op.offset_index is not None else 0
        for index, width, is_write in op.scratch_operands:
            if is_write:
                base = slot[index] + off
                written.update(range(base, base + width))
                total += width
    return len(written) == total


@functools.cache
def _array_expression(op: isa.Op) -> Callable:
    """The op's value over arrays `a` and `b`, from its meaning (the table's
    own expression, never user input)."""
    m = op.meaning
    a, b = (o.name for o in op.operands[1:])
    return eval(compile(f"lambda {a}, {b}: {m.array or m.value}", f"<{op.name}>",  # noqa: S307
                        "eval"), {"np": np})


def _grouped(op: isa.Op, members: list[tuple]) -> Slot:
    """Several slots of one arithmetic op as one operation over stacked rows."""
    width = op.meaning.lanes
    lanes = np.arange(width)
    d, a, b = ((np.array([s[k] for s in members])[:, None] + lanes).ravel() for k in (1, 2, 3))
    fn = _array_expression(op)

    def slot(fx, scratch, memory):
        fx.scratch.append((d, fn(scratch[a], scratch[b]).astype(W, copy=False)))
    return slot


class BatchResult(RunResult):
    """One image's RunResult; its memory and scratch lists are made from the
    batch's arrays when first read (most callers read only the values)."""

    def __init__(self, cycles: int, memory: np.ndarray, scratch: np.ndarray, column: int,
                 trace_buffer: list[int], pc: int, status: Status,
                 error: EmuError | None) -> None:
        self.cycles, self.trace_buffer, self.pc, self.status = cycles, trace_buffer, pc, status
        self.machine, self.error = None, error
        self._arrays = (memory, scratch, column)
        self._mem: list[int] | None = None
        self._scratch: list[int] | None = None

    @property
    def mem(self) -> list[int]:
        if self._mem is None:
            memory, _, j = self._arrays
            self._mem = memory[j].tolist()
        return self._mem

    @property
    def scratch(self) -> list[int]:
        if self._scratch is None:
            _, scratch, j = self._arrays
            self._scratch = scratch[:, j].tolist()
        return self._scratch


@dataclass
class _Group:
    images: np.ndarray  # indices into the caller's list
    scratch: np.ndarray
    memory: np.ndarray
    pc: int = 0
    cycle: int = 0
    trace: list = field(default_factory=list)

    def take(self, keep: np.ndarray) -> _Group:
        return _Group(self.images[keep], self.scratch[:, keep], self.memory[keep], self.pc,
                      self.cycle, [t[keep] for t in self.trace])


class _Batch:
    def __init__(self, program: Kernel | Sequence | dict, max_cycles: int | None, images: int,
                 progress: Callable[[str], None] | None) -> None:
        self.program = program
        self.max_cycles = max_cycles
        self.results: dict[int, RunResult] = {}
        self.images = images
        self.progress = progress
        self.bundles = 0  # bundles run, over every group

    def run_compiled(self, decoded, members: list[int], memory: np.ndarray) -> None:
        """The images `members` (the rows of `memory`) run by the compiled
        core, GROUP at a time in lockstep (emu/_core.c), whose cost per slot is
        far below NumPy's per operation at the sizes of most batches; faults
        named by the reference engine as in a group."""
        scratch = np.zeros((len(memory), isa.SCRATCH_SIZE), dtype=W)
        outcomes: list[tuple] = []
        for start in range(0, len(memory), IMAGES_PER_REPORT):
            rows = slice(start, start + IMAGES_PER_REPORT)
            outcomes += native.run_images(decoded, memory[rows], scratch[rows],
                                          max_cycles=self.max_cycles)
            if self.progress is not None:
                self.progress(f"{len(self.results) + len(outcomes)} of {self.images} "
                              "images done")
        columns = scratch.T  # BatchResult reads an image's scratch as a column
        for j, (code, pc, cycle, at, trace) in enumerate(outcomes):
            status, error = native.STATUS.get(code), None
            if code == native.FAULT:
                status, pc = Status.FAULTED, at
                error = ReferenceEngine(self.kernel).fault(
                    State(scratch[j].tolist(), memory[j].tolist(), at, cycle, list(trace)))
            elif code == native.LIMIT:
                status = Status.FAULTED
                error = EmuError.cycle_limit(self.max_cycles, kernel=self.kernel, pc=at,
                                             cycle=cycle)
            self.results[members[j]] = BatchResult(cycle, memory, columns, j, trace, pc,
                                                   status, error)

    def report(self, g: _Group) -> None:
        if self.progress is not None:
            self.progress(f"{len(self.results)} of {self.images} images done; a group of "
                          f"{len(g.images)} at cycle {g.cycle}")

    @functools.cached_property
    def kernel(self) -> Kernel:
        """The program loaded and checked (the compiled core needs it only to
        name a fault: its own decoding checks what it runs)."""
        return as_kernel(self.program)

    @functools.cached_property
    def code(self) -> list[tuple[list[Slot], int]]:
        """The program as NumPy slot functions (made when groups first run)."""
        return _compile(self.kernel)

    def finish(self, g: _Group, status: Status, columns=None,
               errors: list[EmuError | None] | None = None) -> None:
        columns = range(len(g.images)) if columns is None else columns
        traces = np.array(g.trace, dtype=W).T if g.trace else None
        for n, j in enumerate(columns):
            self.results[int(g.images[j])] = BatchResult(
                g.cycle, g.memory, g.scratch, j,
                traces[j].tolist() if traces is not None else [], g.pc, status,
                errors[n] if errors else None)

    def fault(self, g: _Group, bad: np.ndarray) -> _Group | None:
        """Images `bad` fault at g.pc: the reference engine names the fault."""
        columns = np.flatnonzero(bad)
        reference = ReferenceEngine(self.kernel)
        errors = [reference.fault(State(g.scratch[:, j].tolist(), g.memory[j].tolist(), g.pc,
                                        g.cycle, [int(t[j]) for t in g.trace]))
                  for j in columns]
        self.finish(g, Status.FAULTED, columns, errors)
        keep = ~bad
        return g.take(keep) if keep.any() else None

    def run(self, groups: list[_Group]) -> None:
        if not groups:
            return
        code, n = self.code, len(self.code)
        while groups:
            g = groups.pop()
            while True:
                if g.pc >= n:
                    self.finish(g, Status.FINISHED)
                    break
                slots, cost = code[g.pc]
                self.bundles += 1
                if not self.bundles % PROGRESS_EVERY:
                    self.report(g)
                k = len(g.images)
                fx = _Effects(k, np.arange(k))
                scratch, memory = g.scratch, g.memory
                for f in slots:
                    f(fx, scratch, memory)
                if fx.bad is not None and fx.bad.any():
                    rest = self.fault(g, fx.bad)
                    if rest is None:
                        break
                    g = rest
                    continue  # replay the bundle for the images that did not fault
                for where, values in fx.scratch:
                    scratch[where] = values
                for addr, values in fx.mem:
                    memory[fx.cols, addr] = values
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
        error = EmuError.cycle_limit(self.max_cycles, kernel=self.kernel, pc=pc, cycle=g.cycle)
        self.finish(g, Status.FAULTED, errors=[error] * len(g.images))
        return True


PROGRESS_EVERY = 2048  # bundles between two progress reports
IMAGES_PER_REPORT = 64  # images the compiled core runs between two progress reports


def run_batch(program: Kernel | Sequence | dict, mems: Sequence[Sequence[int]], *,
              max_cycles: int | None = None,
              progress: Callable[[str], None] | None = None,
              compiled: bool = True) -> list[RunResult]:
    """Run `program` on every image of `mems`; the result for each image equals
    `emu.run(program, mem)` (cycles, memory, scratch, trace buffer, pc, status).

    An image that faults gets `status` FAULTED and `error` (the EmuError
    `emu.run` would raise), with the state from before the faulting bundle.
    Images of different lengths run in separate batches. `progress` is called
    with a line of text now and then (every IMAGES_PER_REPORT images on the
    compiled core, every PROGRESS_EVERY bundles with NumPy).

    The compiled core (emu/native.py) runs the images when it is built and
    takes the program; `compiled=False` (or a program it declines) keeps to
    the NumPy groups. Either way the results are the same.
    """
    with gc_paused():  # many small closures and arrays, no cycles among them
        batch = _Batch(program, max_cycles, len(mems), progress)
        by_length: dict[int, list[int]] = {}
        for i, m in enumerate(mems):
            by_length.setdefault(len(m) if isinstance(m, list | tuple) else -1, []).append(i)
        decoded = None
        if compiled:
            decoded = native.decode(program.program if isinstance(program, Kernel) else program)
        if decoded is None:
            batch.kernel  # noqa: B018 - load and check the program now
        groups = []
        for members in by_length.values():
            memory = _images([mems[i] for i in members])
            if decoded is not None:
                batch.run_compiled(decoded, members, memory)
                continue
            scratch = np.zeros((isa.SCRATCH_SIZE, len(members)), dtype=W)
            groups.append(_Group(np.array(members), scratch, memory))
        batch.run(groups)
        return [batch.results[i] for i in range(len(mems))]


def _images(mems: list[Sequence[int]]) -> np.ndarray:
    """Images of one length as the rows of an array, checked as
    `check_image` checks them (with its messages), at C speed when good."""
    if mems and type(mems) is list:
        n = len(mems[0]) if type(mems[0]) is list else -1
        buffer = native.words(mems, n)
        if buffer is not None:
            return np.frombuffer(buffer, dtype=W).reshape(len(mems), n)
    if (all(isinstance(m, list | tuple) for m in mems)
            and set(map(type, itertools.chain.from_iterable(mems))) <= {int}):
        try:
            a = np.array(mems, dtype=np.int64)
        except OverflowError:
            a = None
        if a is not None and (a.size == 0 or (a.min() >= 0 and a.max() <= MASK)):
            return a.astype(W)
    for m in mems:
        check_image(m)  # raises the precise ImageError
    raise AssertionError("unreachable: a bad image passed check_image")  # pragma: no cover
