"""What expansion works on and produces: source lines, macros, the items
lowering reads, and the limits that stop a runaway expansion."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ... import isa, keywords
from ...errors import Location, Note, ToolchainError
from ...source import Src
from ...tree import Line, Node, Stmt, Value
from ..parsecache import parse

BUILTINS: dict[str, int] = {"VLEN": isa.VLEN, "SCRATCH_SIZE": isa.SCRATCH_SIZE}
MAX_DEPTH = 64  # macro calls and includes nested deeper than this are an error
MAX_NESTING = 100  # and blocks (.if, .for, .rept, .macro) nested deeper than this
INCLUDED_FROM = "in file included from here"  # the note an include adds to its lines
MAX_ITEMS = 2_000_000  # expansion larger than this is surely a runaway loop (~1 KB each)
MAX_ITERATIONS = 20_000_000  # so are more loop iterations (even of empty bodies)
MAX_CALLS = 100_000  # and more macro calls (a macro calling itself twice doubles)
MAX_PLANS = 1024  # value combinations of one line whose items are kept for reuse

# The blocks expansion handles (a .pin block is lowering's), opener -> closer.
BLOCKS = {k: v for k, v in keywords.BLOCKS.items() if k != ".pin"}
CLOSERS = {v: k for k, v in BLOCKS.items()}
# Lines that open, divide or close a block.
STRUCTURE = frozenset([*BLOCKS, *CLOSERS, *keywords.BRANCHES])


@dataclass(slots=True)
class Item:
    """One thing for lowering: kind is 'label' (node: Name), 'open', 'close'
    or 'stmt' (node: Stmt with folded arguments)."""

    kind: str
    node: Node | Stmt | None
    src: Src
    pos: int
    # A statement filled in from a template (asm/stages/expand/plan.py): its
    # argument `hole` is the debug key `key`, whatever the node's holds.
    hole: int = -1
    key: tuple = ()


@dataclass(slots=True)
class SrcLine:
    line: Line
    src: Src
    text: str  # the line's text; offsets in `line` count from its start
    # The number a Reuse gives the line's value, once asked, and that Reuse's token.
    ident: int = -1
    numbered_by: object = None


class Fresh(list):
    """Lines made for one run only (a `.for` iteration with its variable
    substituted as text, an included file, a call of a macro that uses `{@}`
    or whose substitution failed): the blocks in them are found again each
    time they run, not kept by the list (blocks.py), which keeping would keep
    every such list."""


@dataclass
class Macro:
    name: str
    params: list[str]
    defaults: dict[str, str]
    body: list[SrcLine]
    src: Src
    unique: bool = False  # the body uses {@}, so no two expansions are alike

    @cached_property
    def key(self) -> tuple:
        """The macro as a value: what a substituted body depends on."""
        return (self.name, tuple(self.params), tuple(sorted(self.defaults.items())),
                tuple((b.src.where, b.text) for b in self.body), self.src.chain)


@dataclass
class Expansion:
    items: list[Item] = field(default_factory=list)
    env: dict[str, Value] = field(default_factory=dict)
    equ_sites: dict[str, Location] = field(default_factory=dict)  # where each .equ was last set
    macros: dict[str, Macro] = field(default_factory=dict)
    diagnostics: list[ToolchainError] = field(default_factory=list)
    halted: bool = False  # stopped by a resource limit: the items are incomplete


class ExpandError(Exception):
    """Abandons the statement being expanded; the diagnostic is already recorded."""


def file_lines(text: str, filename: str | None, chain: tuple[Note, ...],
               diagnostics: list[ToolchainError]) -> list[SrcLine]:
    """Parse a file into lines with their positions."""
    errors: list[ToolchainError] = []
    lines = parse(text, filename, errors)
    for e in errors:
        e.notes = (*e.notes, *chain)
    diagnostics.extend(errors)
    raw = text.split("\n")
    return [SrcLine(ln, Src(filename, lineno, None, None, chain), raw[lineno - 1])
            for lineno, ln in lines]
