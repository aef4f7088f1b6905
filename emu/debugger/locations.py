"""Where `break`, `tbreak`, `until` and `list` go, and what `finish` runs to.

gdb's spellings: `30` and `k.vasm:30` are source lines, `*12` is pc 12, a name
is a label or a macro. A line with no code moves to the next line that has
some, and says so. A place several bundles come from (a line inside a loop
body, a macro's expansions, a line whose ops a scheduler spread out) stops at
each way into it: a bundle of it whose predecessor is not, or that a jump
lands on.
"""

from __future__ import annotations

import bisect
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from asm.cfg import ControlFlow
from asm.errors import Location, Note
from asm.kernel import Kernel

from .errors import DebugError


@dataclass(frozen=True)
class Where:
    """A resolved location: its bundles, how to name it, and a remark."""

    pcs: frozenset[int]
    text: str
    note: str | None = None


MACRO_NOTE = "in expansion of macro "  # how the assembler's notes name a macro call


@dataclass(frozen=True)
class Region:
    """What `finish` runs to the end of: a macro expansion, a loop iteration or
    a basic block."""

    kind: str  # "macro expansion", "loop iteration" or "block"
    first: int
    last: int
    name: str

    def left(self, pc: int) -> bool:
        """Whether arriving at `pc` (after at least one bundle) ends the region:
        back at a loop's head is its next iteration."""
        return not self.first <= pc <= self.last or (self.kind == "loop iteration"
                                                     and pc == self.first)


class Locations:
    """A kernel's places by name. `macros` maps each macro to the source lines
    ('file:line') of its body and of the macros it calls; `calls` maps a
    source line to the bundles it produced through macro calls and includes
    written on it; `chains` maps a pc to the macro calls and includes (notes,
    innermost first) that produced it. They come from the source when the
    debugger has it."""

    def __init__(self, kernel: Kernel, *, main_file: str | None = None,
                 macros: Mapping[str, frozenset[str]] | None = None,
                 calls: Mapping[str, Iterable[int]] | None = None,
                 chains: Mapping[int, tuple[Note, ...]] | None = None) -> None:
        self.kernel = kernel
        self.chains = None if chains is None else dict(chains)  # None: not known
        self.macros: Mapping[str, frozenset[str]] = macros if macros is not None else {}
        self.calls = dict(calls or {})
        self._main = main_file

    # ------------------------------------------------------------ indexes

    @cached_property
    def lines(self) -> dict[str, dict[int, set[int]]]:
        """file -> line -> the pcs of the bundles with an op from that line."""
        out: dict[str, dict[int, set[int]]] = {}

        def add(where: str | None, pc: int) -> None:
            if where:
                loc = Location.parse(where)
                if loc.file and loc.line is not None:
                    out.setdefault(loc.file, {}).setdefault(loc.line, set()).add(pc)

        k = self.kernel
        for pc in range(len(k.program)):
            for where in {k.source_of(pc), *k.op_sources(pc)}:
                add(where, pc)
        for where, pcs in self.calls.items():
            for pc in pcs:
                add(where, pc)
        return out

    @cached_property
    def flow(self) -> ControlFlow:
        return ControlFlow(self.kernel.program)

    @cached_property
    def label_at(self) -> dict[int, str]:
        return {pc: name for name, pc in sorted(self.kernel.labels.items(), reverse=True)}

    @property
    def main_file(self) -> str | None:
        """The file `break 30` means: the one given, else the file most bundles
        come from."""
        if self._main is None:
            counts = Counter(Location.parse(s).file for s in self.kernel.source or () if s)
            self._main = counts.most_common(1)[0][0] if counts else None
        return self._main

    def entries(self, pcs: Iterable[int]) -> frozenset[int]:
        """The ways into a set of bundles."""
        pcs = set(pcs)
        targets = self.flow.targets
        return frozenset(pc for pc in pcs if pc - 1 not in pcs or pc in targets)

    # ------------------------------------------------------------ resolving

    def resolve(self, text: str) -> Where:
        text = text.strip()
        n = len(self.kernel.program)
        if not text:
            raise DebugError("say where: a source line (30, k.vasm:30), a label, a macro "
                             "or a pc (*12)")
        if text.startswith("*"):
            pc = text[1:].strip()
            if not pc.isdigit() or not 0 <= int(pc) < n:
                raise DebugError(f"{text!r}: a pc is *N with N in 0..{n - 1}")
            return Where(frozenset({int(pc)}), f"pc {int(pc)}")
        if text in self.kernel.labels:
            return Where(frozenset({self.kernel.labels[text]}), f"label {text}")
        file, colon, line = text.rpartition(":")
        if line.isdigit() and (colon or not file):
            return self.source_line(file or None, int(line))
        if text in self.macros:
            pcs = {pc for where in self.macros[text] for pc in self._line_pcs(where)}
            if not pcs:
                raise DebugError(f"macro {text} produced no code in this kernel")
            return Where(self.entries(pcs), f"macro {text}")
        raise DebugError(f"{text!r} is not a label{', a macro' if self.macros else ''}, "
                         "a source line (30, k.vasm:30) or a pc (*12)"
                         + self._hint(text))

    def _hint(self, text: str) -> str:
        names = [*self.kernel.labels, *self.macros]
        close = [x for x in names if x.lower() == text.lower()]
        if close:
            return f"; did you mean {close[0]}?"
        if not self.macros and self.kernel.source:
            return " (macro names need the kernel's source file)"
        return ""

    def _line_pcs(self, where: str) -> set[int]:
        loc = Location.parse(where)
        return self.lines.get(loc.file or "", {}).get(loc.line or -1, set())

    def file_named(self, file: str | None) -> str:
        files = sorted(self.lines)
        if file is None:
            if self.main_file is None:
                raise DebugError("the kernel has no source map: give a pc (*12) or a label")
            return self.main_file
        if file in self.lines:
            return file
        full = os.path.abspath(file)
        found = [f for f in files if f.endswith("/" + file) or os.path.abspath(f) == full]
        if len(found) == 1:
            return found[0]
        if found:
            raise DebugError(f"{file} could be {', '.join(found)}: say which")
        raise DebugError(f"no code comes from {file}" + (
            f" (files: {', '.join(files[:6])})" if files else " (the kernel has no source map)"))

    def source_line(self, file: str | None, line: int) -> Where:
        name = self.file_named(file)
        table = self.lines.get(name, {})
        numbers = sorted(table)
        i = bisect.bisect_left(numbers, line)
        if i == len(numbers):
            raise DebugError(f"no code at or after {name}:{line}")
        found = numbers[i]
        note = None
        if found != line:
            note = f"{name}:{line} has no code; using {name}:{found}, the next line that has"
        return Where(self.entries(table[found]), f"{name}:{found}", note)

    # ------------------------------------------------------------ finish

    def region(self, pc: int) -> Region:
        """The innermost of the macro expansion and the loop (a backward jump
        and its target) around `pc`, else its basic block."""
        found = []
        loops = [(j.pc - j.target, j.target, j.pc) for j in self.flow.jumps
                 if 0 <= j.target <= pc <= j.pc]
        if loops:
            _, first, last = min(loops)
            found.append(Region("loop iteration", first, last, self._name(first, last)))
        expansion = self.expansion(pc)
        if expansion is not None:
            found.append(expansion)
        if found:
            return min(found, key=lambda r: r.last - r.first)
        for b in self.flow.blocks():
            if b.start <= pc < b.end:
                return Region("block", b.start, b.end - 1, self._name(b.start, b.end - 1))
        return Region("block", pc, pc, self._name(pc, pc))

    def expansion(self, pc: int) -> Region | None:
        """The bundles of the innermost macro expansion `pc` is part of (the
        run of bundles around it made by that same call), or None."""
        chains = self.chains or {}
        call = next((n for n in chains.get(pc, ()) if n.message.startswith(MACRO_NOTE)), None)
        if call is None:
            return None
        first = last = pc
        while first - 1 in chains and call in chains[first - 1]:
            first -= 1
        while last + 1 in chains and call in chains[last + 1]:
            last += 1
        macro = call.message.removeprefix(MACRO_NOTE)
        where = f"{os.path.basename(call.location.file or '<input>')}:{call.location.line}" \
            if call.location else "?"
        return Region("macro expansion", first, last,
                      f"macro {macro} called at {where} (pc {first}..{last})")

    def _name(self, first: int, last: int) -> str:
        label = self.label_at.get(first)
        span = f"pc {first}..{last}"
        return f"{label} ({span})" if label else span


def macro_lines(macros: Mapping[str, object]) -> dict[str, frozenset[str]]:
    """For each macro (the assembler's `Expansion.macros`), the source lines
    ('file:line') of its body and of every macro its body calls."""
    direct: dict[str, set[str]] = {}
    calls: dict[str, set[str]] = {}
    for name, m in macros.items():
        direct[name] = {line.src.where for line in m.body}
        words = {line.text.split(None, 1)[0].rstrip(":") for line in m.body
                 if line.text.split()}
        calls[name] = words & set(macros) - {name}
    out = {}
    for name in macros:
        seen, todo, where = {name}, [name], set()
        while todo:
            m = todo.pop()
            where |= direct[m]
            for callee in calls[m] - seen:
                seen.add(callee)
                todo.append(callee)
        out[name] = frozenset(where)
    return out
