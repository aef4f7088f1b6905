"""A debugging session: the machine state, its breakpoints, watches and
displays, and running it to the next stop.

Execution is the reference engine's, one bundle at a time: a faulting bundle
is reported and has no effect, and the session stays in front of it. Ctrl-C
while running stops between two bundles; a cycle limit (by default
`vemu run`'s) stops a runaway loop.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from dataclasses import dataclass

from asm.kernel import Kernel

from ..limits import DEFAULT_MAX_CYCLES
from ..reference import Effects, ReferenceEngine
from ..state import EmuError, State, Status
from .errors import DebugError
from .locations import Region, Where
from .values import Place, Words


@dataclass
class Breakpoint:
    number: int
    where: Where
    temporary: bool = False
    hits: int = 0


@dataclass
class Watch:
    number: int
    place: Place
    last: list[int]


@dataclass
class Display:
    number: int
    text: str
    fmt: str


@dataclass
class LastBundle:
    """The bundle that ran last, what it changed and what was there before."""

    pc: int
    cycle: int
    effects: Effects
    scratch_before: dict[int, int]
    mem_before: dict[int, int]


class Session:
    def __init__(self, kernel: Kernel, mem: list[int], *,
                 max_cycles: int | None = DEFAULT_MAX_CYCLES) -> None:
        self.kernel = kernel
        self.image = list(mem)
        # The session applies the cycle limit itself: a stop, not a fault.
        self.engine = ReferenceEngine(kernel)
        self.words = Words(kernel)
        self.max_cycles = max_cycles
        self.breakpoints: dict[int, Breakpoint] = {}
        self.watches: dict[int, Watch] = {}
        self.displays: dict[int, Display] = {}
        self.numbers = 0  # breakpoints and watches share numbers, as in gdb
        self.display_numbers = 0
        self.interrupted = False
        self.restart()

    # ------------------------------------------------------------ state

    def restart(self) -> None:
        """Back to cycle 0 with the memory image as loaded; stops and displays stay."""
        self.state = State.fresh(self.image)
        self.last: LastBundle | None = None
        for w in self.watches.values():
            w.last = self.words.read(w.place, self.state)

    @property
    def done(self) -> bool:
        return self.state.pc >= len(self.kernel.program) or self.state.status in (
            Status.HALTED, Status.FINISHED)

    def ending(self) -> str:
        how = "halted" if self.state.status is Status.HALTED else "ended"
        return f"the program {how} after {self.state.cycle} cycles"

    def place(self, text: str) -> Place:
        return self.words.place(text, self.state)

    def read(self, place: Place) -> list[int]:
        return self.words.read(place, self.state)

    def write(self, place: Place, values: list[int]) -> None:
        self.words.write(place, values, self.state)
        for w in self.watches.values():  # a watch reports what the program changes
            w.last = self.words.read(w.place, self.state)

    # ------------------------------------------------------------ stops

    def add_breakpoint(self, where: Where, *, temporary: bool = False) -> Breakpoint:
        self.numbers += 1
        b = self.breakpoints[self.numbers] = Breakpoint(self.numbers, where, temporary)
        return b

    def add_watch(self, place: Place) -> Watch:
        self.numbers += 1
        w = self.watches[self.numbers] = Watch(self.numbers, place, self.read(place))
        return w

    def add_display(self, text: str, fmt: str) -> Display:
        self.place(text)  # it names something now
        self.display_numbers += 1
        d = self.displays[self.display_numbers] = Display(self.display_numbers, text, fmt)
        return d

    def delete(self, numbers: list[int]) -> None:
        missing = [n for n in numbers if n not in self.breakpoints and n not in self.watches]
        if missing:
            raise DebugError(f"no breakpoint or watch {', '.join(map(str, missing))}")
        for n in numbers:
            self.breakpoints.pop(n, None)
            self.watches.pop(n, None)

    # ------------------------------------------------------------ running

    @contextlib.contextmanager
    def catching_interrupts(self) -> Iterator[None]:
        """Ctrl-C sets a flag the run checks between bundles, instead of
        raising in the middle of one."""
        self.interrupted = False

        def interrupt(signum, frame) -> None:
            self.interrupted = True

        try:
            previous = signal.signal(signal.SIGINT, interrupt)
        except ValueError:  # not the main thread: nothing to catch
            previous = None
        try:
            yield
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def run(self, *, bundles: int | None = None, until: frozenset[int] = frozenset(),
            region: Region | None = None) -> list[str]:
        """Run up to `bundles` bundles (None: no limit) and say why it stopped:
        a breakpoint or `until` (not before the first bundle), leaving
        `region`, a watch, a fault, Ctrl-C, the cycle limit or the end."""
        st = self.state
        program_length = len(self.kernel.program)
        stops = {pc for b in self.breakpoints.values() for pc in b.where.pcs}
        watching = bool(self.watches)
        limit = self.max_cycles
        n = 0
        with self.catching_interrupts():
            while True:
                if st.pc >= program_length or st.status in (Status.HALTED, Status.FINISHED):
                    return [self.ending()]
                pc = st.pc
                if n:
                    if pc in stops:
                        return self._hit(pc)
                    if pc in until:
                        return []
                    if region is not None and region.left(pc):
                        return [self._finished(region, pc)]
                if bundles is not None and n >= bundles:
                    return []
                if self.interrupted:
                    return [f"interrupted at pc {pc}, cycle {st.cycle}"]
                if limit is not None and st.cycle >= limit:
                    return [f"stopped at the cycle limit of {limit:,} cycles (where "
                            "'vemu run' stops with an error); 'set max-cycles N' changes it"]
                try:
                    fx = self.engine.effects(st)
                except EmuError as e:
                    return [f"fault: {e}"]
                scratch, mem = st.scratch, st.mem
                self.last = LastBundle(pc, st.cycle, fx, {a: scratch[a] for a in fx.scratch},
                                       {a: mem[a] for a in fx.mem})
                self.engine.commit(st, fx)  # (no limit in the engine: the loop checks it)
                n += 1
                if watching:
                    changed = self._watched()
                    if changed:  # a breakpoint in front of which it stops hits too
                        return changed + (self._hit(st.pc) if st.pc in stops else [])

    def _hit(self, pc: int) -> list[str]:
        out = []
        for b in list(self.breakpoints.values()):
            if pc in b.where.pcs:
                b.hits += 1
                if b.temporary:
                    del self.breakpoints[b.number]
                    out.append(f"temporary breakpoint {b.number} ({b.where.text}), deleted")
                else:
                    out.append(f"breakpoint {b.number} ({b.where.text})")
        return out

    def _watched(self) -> list[str]:
        out = []
        for w in self.watches.values():
            now = self.read(w.place)
            if now != w.last:
                for i, (old, new) in enumerate(zip(w.last, now, strict=True)):
                    if old != new:
                        name = w.place.text if len(now) == 1 else f"{w.place.text}[{i}]"
                        out.append(f"watch {w.number} ({name}): {old} -> {new}")
                w.last = now
        return out

    def _finished(self, region: Region, pc: int) -> str:
        if region.kind == "macro expansion":
            return f"finish: out of the expansion of {region.name}, back in its caller"
        if region.kind == "loop iteration":
            if pc == region.first:
                return (f"finish: end of an iteration of the loop {region.name}; "
                        "the next one starts here")
            return f"finish: end of the loop {region.name}; it is done"
        return f"finish: end of the block {region.name}"
