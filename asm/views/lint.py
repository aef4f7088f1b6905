"""The linter behind `vasm check`: what is wrong, or probably wrong, with a program.

Errors: slot limits, unknown ops, malformed slots, operands outside scratch,
jump targets outside the program. Warnings (legal, but usually a bug): two
slots of a bundle writing one word (and which wins), a slot reading a word
another slot of its bundle writes (it reads the old value), a vector operand
straddling its symbol, words read before anything writes them on any path
(scratch starts at zero), and unreachable bundles. Every diagnostic names the bundle, engine and slot,
and the source line when the kernel has a source map.
"""

from __future__ import annotations

import bisect
from typing import Any

from .. import isa
from ..cfg import ControlFlow
from ..errors import Diagnostic, KernelError, Location, Note
from ..kernel import Kernel, image_fields, kernel_from_json, read_kernel_data, walk_bundle

K = isa.Kind


class _Linter:
    def __init__(self, program: list, scratch: dict, source, op_source=None,
                 scheduled: int | None = None, validated: bool = False) -> None:
        self.program = program
        self.validated = validated  # a Kernel's program: every slot known good
        self.scratch = scratch
        self.source = source
        self.op_source = op_source
        self.scheduled = scheduled
        self.out: list[Diagnostic] = []

    def where(self, pc: int, engine: str | None, slot: int | None) -> Location | None:
        """The op's own source line when the kernel has one, else its bundle's."""
        text = None
        try:
            ops = self.op_source[pc] if self.op_source is not None else None
            if ops is not None and engine is not None and slot is not None:
                bundle = self.program[pc]
                before = 0
                for e, slots in bundle.items():
                    if e == engine:
                        text = ops[before + slot]
                        break
                    before += len(slots)
        except (IndexError, TypeError, AttributeError):
            text = None  # a malformed op source map: the bundle's line will do
        if not isinstance(text, str):
            source = self.source
            if isinstance(source, list) and 0 <= pc < len(source):
                text = source[pc]
        return Location.parse(text) if isinstance(text, str) and text else None

    def report(self, severity: str, message: str, pc: int | None = None,
               engine: str | None = None, slot: int | None = None, notes=()) -> None:
        place = ", ".join(p for p in (
            f"bundle {pc}" if pc is not None else None,
            f"{engine} slot {slot}" if engine is not None and slot is not None else engine,
        ) if p)
        loc = self.where(pc, engine, slot) if pc is not None else None
        text = f"{place}: {message}" if place else message
        self.out.append(Diagnostic(text, location=loc, notes=tuple(notes), severity=severity))

    # ------------------------------------------------------------ errors

    def valid_slots(self) -> list[list[tuple[str, int, tuple, isa.Op]]]:
        """Each bundle's valid slots; every invalid one reported."""
        if self.validated:
            lookup = isa.lookup
            return [[(e, i, s, lookup(e, s[0])) for e, slots in bundle.items()
                     for i, s in enumerate(slots)] for bundle in self.program]
        bundles = []
        for pc, bundle in enumerate(self.program):
            good = []
            if not isinstance(bundle, dict):
                self.report("error", "a bundle is an object of engine -> slots", pc)
                bundles.append(good)
                continue
            for item in walk_bundle(bundle, pc):
                if isinstance(item, KernelError):
                    self.report("error", item.reason, pc, item.engine, item.slot)
                else:
                    engine, valid = item
                    good.extend((engine, i, s, op) for i, s, op in valid)
            bundles.append(good)
        return bundles

    def targets(self, flow: ControlFlow, bundles) -> None:
        n = flow.length
        for j in flow.outside():
            slot = [i for e, i, _, _ in bundles[j.pc] if e == "flow"][j.slot]
            self.report("error", f"jump target {j.target} is outside the program "
                        f"(0..{n}, where {n} ends it)", j.pc, "flow", slot)

    # ------------------------------------------------------------ warnings

    def same_bundle(self, bundles) -> None:
        for pc, slots in enumerate(bundles):
            writers: dict[int, list[tuple[str, int]]] = {}
            for engine, i, s, op in slots:
                for w in op.scratch_words(s)[1]:
                    writers.setdefault(w, []).append((engine, i))
            for w, who in writers.items():
                if len(who) > 1:
                    winner = who[-1]
                    self.report("warning", f"{len(who)} slots write scratch {self.name(w)}; "
                                f"the last, {winner[0]} slot {winner[1]}, wins", pc)
            if self.scheduled is not None:
                continue  # the scheduler reads old values on purpose
            for engine, i, s, op in slots:
                clash = [w for w in op.scratch_words(s)[0] if w in writers
                         and any(x != (engine, i) for x in writers[w])]
                if clash:
                    w = clash[0]
                    other = next(x for x in writers[w] if x != (engine, i))
                    self.report("warning", f"reads scratch {self.name(w)}, which "
                                f"{other[0]} slot {other[1]} of the same bundle writes: it "
                                "reads the old value", pc, engine, i)

    def straddles(self, bundles) -> None:
        spans = sorted((a, a + ln, name) for a, (name, ln) in self.scratch.items() if ln > 0)
        starts = [lo for lo, _, _ in spans]
        longest = max((hi - lo for lo, hi, _ in spans), default=0)
        crossed: dict[tuple[int, int], list[tuple[int, int, str]]] = {}  # (@, width) ->
        seen: set[tuple] = set()
        for pc, slots in enumerate(bundles):
            for engine, i, s, op in slots:
                off = s[op.offset_index] if op.offset_index is not None else 0
                for index, width, _ in op.scratch_operands:
                    if width == 1:
                        continue
                    a = s[index] + off
                    found = crossed.get((a, width))
                    if found is None:  # the symbols overlapping a..a+width-1, not holding it
                        first = bisect.bisect_left(starts, a - longest)
                        last = bisect.bisect_left(starts, a + width)
                        found = crossed[a, width] = [
                            (lo, hi, name) for lo, hi, name in spans[first:last]
                            if lo < a + width and a < hi and not (lo <= a and a + width <= hi)]
                    for lo, hi, name in found:
                        if (a, name) not in seen:
                            seen.add((a, name))
                            self.report("warning", f"vector operand @{a} (words {a}.."
                                        f"{a + width - 1}) straddles '{name}' "
                                        f"(words {lo}..{hi - 1})", pc, engine, i)

    def read_before_written(self, bundles, flow: ControlFlow) -> None:
        """Reads of a word that nothing has written on any path to them (scratch
        starts at zero): words nothing writes at all, and words first written
        later. A word counts as written at a read when some path from the
        start to it writes the word (in an earlier bundle: a bundle's reads
        see the values before its own writes), so a loop whose body reads what
        its end writes is not flagged once the word is written before the
        loop too, or anywhere on the way round."""
        rw = [[op.scratch_words(s) for _, _, s, op in slots] for slots in bundles]
        first_write: dict[int, int] = {}
        for pc, pairs in enumerate(rw):
            for _, writes in pairs:
                for w in writes:
                    first_write.setdefault(w, pc)
        early: dict[int, tuple[int, str, int]] = {}  # word -> its first unwritten read
        for pc, written in self._written_before(rw, flow):
            for (engine, i, _, _), (reads, _) in zip(bundles[pc], rw[pc], strict=True):
                for w in reads:
                    if not written >> w & 1 and w not in early:
                        early[w] = (pc, engine, i)
        by_place: dict[tuple[tuple[int, str, int], int | None], list[int]] = {}
        for w in sorted(early):
            by_place.setdefault((early[w], first_write.get(w)), []).append(w)
        shown = sorted(by_place.items(), key=lambda kv: kv[0][0])
        for ((pc, engine, i), later), words in shown[:20]:
            what = (self.name(words[0]) if len(words) == 1
                    else f"{self.name(words[0])} .. {self.name(words[-1])}")
            if later is None:
                self.report("warning", f"reads scratch {what}, which nothing writes "
                            "(scratch starts at zero)", pc, engine, i)
                continue
            if later == pc and self.scheduled is None:
                continue  # same_bundle says it reads the old value
            if later > pc:
                then = f"the first write comes later, in bundle {later}"
            elif later == pc:
                then = "the first write is in this bundle, whose reads see the old values"
            else:
                then = f"bundle {later} writes it, but on no path that leads here"
            where = self.where(later, None, None)
            self.report("warning", f"reads scratch {what} before anything writes it (scratch "
                        f"starts at zero); {then}", pc, engine, i,
                        notes=[Note("the first write is here", where)] if where else ())
        if len(shown) > 20:
            self.report("warning", f"... and {len(shown) - 20} more slots read words "
                        "nothing has written yet")

    @staticmethod
    def _written_before(rw, flow: ControlFlow):
        """(pc, words some path writes before bundle pc runs, as a bit set) for
        every reachable pc. With indirect or negative jumps, where the paths
        are data, a word counts once any bundle before it writes it."""
        n = len(rw)
        gen = [0] * n
        for pc, pairs in enumerate(rw):
            for _, writes in pairs:
                for w in writes:
                    gen[pc] |= 1 << w
        if flow.unmovable:
            written = 0
            for pc in range(n):
                yield pc, written
                written |= gen[pc]
            return
        ranges = flow.blocks()
        index = {b.start: k for k, b in enumerate(ranges)}
        succ: list[list[int]] = [[] for _ in ranges]
        for k, b in enumerate(ranges):
            if b.end - 1 not in flow.stops and k + 1 < len(ranges):
                succ[k].append(k + 1)
        starts = [b.start for b in ranges]
        for j in flow.jumps:
            if j.target in index:
                succ[bisect.bisect_right(starts, j.pc) - 1].append(index[j.target])
        out_of = []
        for b in ranges:
            block_gen = 0
            for pc in range(b.start, b.end):
                block_gen |= gen[pc]
            out_of.append(block_gen)
        into: list[int | None] = [None] * len(ranges)
        if ranges:
            into[0] = 0
        work = [0] if ranges else []
        while work:
            k = work.pop()
            leaving = into[k] | out_of[k]
            for t in succ[k]:
                if into[t] is None or leaving & ~into[t]:
                    into[t] = leaving if into[t] is None else into[t] | leaving
                    work.append(t)
        for k, b in enumerate(ranges):
            if into[k] is None:
                continue  # unreachable (reported as such)
            written = into[k]
            for pc in range(b.start, b.end):
                yield pc, written
                written |= gen[pc]

    def unreachable(self, flow: ControlFlow) -> None:
        reachable = flow.reachable()
        if reachable is None:
            return  # indirect or negative targets: reachability is data
        pc = 0
        while pc < flow.length:
            if reachable[pc]:
                pc += 1
                continue
            end = pc
            while end < flow.length and not reachable[end]:
                end += 1
            span = f"bundles {pc}..{end - 1}" if end - 1 > pc else f"bundle {pc}"
            self.report("warning", f"{span} can never run: nothing jumps there and "
                        "the code before ends in a jump or halt", pc)
            pc = end

    def name(self, w: int) -> str:
        for a, (name, ln) in self.scratch.items():
            if a <= w < a + ln:
                return f"{w} ('{name}'{f'[{w - a}]' if ln > 1 else ''})"
        return str(w)

    def run(self) -> list[Diagnostic]:
        bundles = self.valid_slots()
        # The control flow of what is valid (the rest is reported already).
        valid = [{"flow": [s for e, _, s, _ in slots if e == "flow"]} for slots in bundles]
        flow = ControlFlow(valid)
        self.targets(flow, bundles)
        self.same_bundle(bundles)
        self.straddles(bundles)
        self.read_before_written(bundles, flow)
        self.unreachable(flow)
        return self.out


def lint(kernel: Kernel | Any) -> list[Diagnostic]:
    """Errors and warnings for a Kernel, an assembly result, or raw kernel data
    (a bundle list or image object, which may be invalid: every problem is
    reported, not just the first)."""
    if hasattr(kernel, "kernel") and hasattr(kernel, "diagnostics"):  # an Assembly
        kernel = kernel.kernel
    if isinstance(kernel, Kernel):
        return _Linter(kernel.program, kernel.scratch, kernel.source, kernel.op_source,
                        kernel.scheduled, validated=True).run()
    try:
        return lint(kernel_from_json(kernel))
    except KernelError as e:
        if e.bundle is None:  # the image's shape or header: as every reader says it
            return [Diagnostic(e.message)]
    # Slots are wrong: report each one. Everything else is validated as every
    # reader validates it (with empty bundles in place of the program's).
    fields = image_fields(kernel)
    program = fields.pop("program")
    op_source = fields.pop("op_source", None)  # read leniently: it only places messages
    try:
        rest = Kernel([{}] * len(program), **fields)
    except KernelError as e:
        return [Diagnostic(e.message)]
    return _Linter(program, rest.scratch, rest.source, op_source, rest.scheduled).run()


def lint_file(path: str) -> list[Diagnostic]:
    """Lint a kernel image file without stopping at its first problem."""
    try:
        data = read_kernel_data(path)
    except KernelError as e:
        return [Diagnostic(e.message, location=e.location)]
    found = lint(data)
    for d in found:
        if d.location is None:
            d.location = Location(path)
    return found


__all__ = ["Note", "lint", "lint_file"]
