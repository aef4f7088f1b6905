"""What assembling can skip because it has done it before, kept beside the
stages and keyed by value.

Expansion meets the same work again and again: a line inside a loop, a macro
called again with the same arguments, a substituted line that reads the same
as another. A `Reuse` remembers that work by what it was done on (text,
positions, call chains, the values of the names a line mentions), never by
object identity, so an entry is right for as long as it is kept: within one
assembly, or across many (a language server keeps one between edits of a
file). Giving `expand` or `assemble_full` a Reuse changes nothing in what
they produce, only how fast (tests/test_reuse.py checks exactly that); they
make a fresh one when given none.

The later stages need nothing from here: expansion hands out the very same
item for a line repeated with the same values, and lowering, layout and
resolution each notice an object they have met before in their own input.
"""

from __future__ import annotations

from ..tree import Line
from .expand.model import SrcLine
from .expand.plan import Plan
from .parsecache import Shapes

# Past this many entries a table is emptied at the start of an assembly:
# memory stays bounded however long a Reuse is kept.
MAX_ENTRIES = 200_000


class Reuse:
    def __init__(self) -> None:
        # A line's text -> its parse (node offsets count from the line's start,
        # so the parse fits the text wherever it stands). Nothing that gave a
        # syntax error is kept, here or in `bodies` and `calls`: every
        # assembly reports its own errors.
        self.parsed: dict[str, list[Line]] = {}
        # Lines that differ only in their numbers share one parse (the
        # substituted `val[8 * (16 + 5)]` of every group).
        self.shapes = Shapes()
        # (macro, argument texts, call note, call chain) -> the substituted body.
        self.bodies: dict[tuple, list[SrcLine]] = {}
        # (a call line's number, the call's place in it) -> (macro, body): a
        # call met again skips binding its arguments.
        self.calls: dict[tuple[int, int], tuple] = {}
        # A line's value -> a small number naming it (SrcLine.ident).
        self.idents: dict[tuple, int] = {}
        # What the lines this Reuse numbered carry to say so (a plain object:
        # a line pointing back at the Reuse that holds it would be a cycle).
        self.token = object()
        # A line (by ident) -> what expansion knows of it (expand/plan.py).
        self.plans: dict[int, Plan] = {}

    def ident(self, sl: SrcLine) -> int:
        """The number naming a line's value: where it is, its text (as
        substituted, with the column map that places it) and the macro calls
        and includes it came through. Equal lines get equal numbers."""
        if sl.numbered_by is self.token:
            return sl.ident
        src = sl.src
        key = (src.file, src.lineno, sl.text, src.text is None, src.colmap, src.chain)
        n = self.idents.get(key)
        if n is None:
            n = self.idents[key] = len(self.idents)
        sl.ident, sl.numbered_by = n, self.token
        return n

    def trim(self) -> None:
        """Start afresh once a table has grown past MAX_ENTRIES (all of them:
        the lines kept in bodies carry numbers that name plans)."""
        tables = (self.parsed, self.shapes.parsed, self.bodies, self.calls, self.idents,
                  self.plans)
        if any(len(t) > MAX_ENTRIES for t in tables):
            for t in tables:
                t.clear()
            self.token = object()  # numbers given before mean nothing now
