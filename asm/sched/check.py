"""The checker: what is wrong, or probably wrong, with a program.

Errors: slot limits, unknown ops, malformed slots, operands outside scratch,
jump targets outside the program. Warnings (legal, but usually a bug): two
slots of a bundle writing one word (and which wins), a slot reading a word
another slot of its bundle writes (it reads the old value), a vector operand
straddling its symbol, words read but never written (scratch starts at zero),
and unreachable bundles. Every diagnostic names the bundle, engine and slot,
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


class _Checker:
    def __init__(self, program: list, scratch: dict, source, op_source=None,
                 scheduled: int | None = None, validated: bool = False) -> None:
        self.program = program
        self.validated = validated  # a Kernel's program: every slot known good
        self.scratch = scratch
        self.source = source
        self.op_source = op_source
        self.scheduled = scheduled
        self.out: list[Diagnostic] = []
        # (engine, slot) -> (reads, writes); alu and valu share op names.
        self._words: dict[tuple, tuple[list[int], list[int]]] = {}

    def words(self, op: isa.Op, s: tuple) -> tuple[list[int], list[int]]:
        """The scratch words slot `s` reads and writes (slots repeat: once each)."""
        key = (op.engine, s)
        found = self._words.get(key)
        if found is None:
            found = self._words[key] = op.scratch_words(s)
        return found

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
                for w in self.words(op, s)[1]:
                    writers.setdefault(w, []).append((engine, i))
            for w, who in writers.items():
                if len(who) > 1:
                    winner = who[-1]
                    self.report("warning", f"{len(who)} slots write scratch {self.name(w)}; "
                                f"the last, {winner[0]} slot {winner[1]}, wins", pc)
            if self.scheduled is not None:
                continue  # the scheduler reads old values on purpose
            for engine, i, s, op in slots:
                clash = [w for w in self.words(op, s)[0] if w in writers
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

    def never_written(self, bundles) -> None:
        written: set[int] = set()
        first_read: dict[int, tuple[int, str, int]] = {}
        for pc, slots in enumerate(bundles):
            for engine, i, s, op in slots:
                reads, writes = self.words(op, s)
                written.update(writes)
                for w in reads:
                    first_read.setdefault(w, (pc, engine, i))
        by_place: dict[tuple[int, str, int], list[int]] = {}
        for w in sorted(first_read):
            if w not in written:
                by_place.setdefault(first_read[w], []).append(w)
        for (pc, engine, i), words in list(by_place.items())[:20]:
            what = (self.name(words[0]) if len(words) == 1
                    else f"{self.name(words[0])} .. {self.name(words[-1])}")
            self.report("warning", f"reads scratch {what}, which nothing writes "
                        "(scratch starts at zero)", pc, engine, i)
        if len(by_place) > 20:
            self.report("warning", f"... and {len(by_place) - 20} more slots read words "
                        "nothing writes")

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
        self.never_written(bundles)
        self.unreachable(flow)
        return self.out


def check(kernel: Kernel | Any) -> list[Diagnostic]:
    """Errors and warnings for a Kernel, an assembly result, or raw kernel data
    (a bundle list or image object, which may be invalid: every problem is
    reported, not just the first)."""
    if hasattr(kernel, "kernel") and hasattr(kernel, "diagnostics"):  # an Assembly
        kernel = kernel.kernel
    if isinstance(kernel, Kernel):
        return _Checker(kernel.program, kernel.scratch, kernel.source, kernel.op_source,
                        kernel.scheduled, validated=True).run()
    try:
        return check(kernel_from_json(kernel))
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
    return _Checker(program, rest.scratch, rest.source, op_source, rest.scheduled).run()


def check_file(path: str) -> list[Diagnostic]:
    """Check a kernel image file without stopping at its first problem."""
    try:
        data = read_kernel_data(path)
    except KernelError as e:
        return [Diagnostic(e.message, location=e.location)]
    found = check(data)
    for d in found:
        if d.location is None:
            d.location = Location(path)
    return found


__all__ = ["Note", "check", "check_file"]
