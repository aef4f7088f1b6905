"""What expansion knows about a line it meets again: a `Plan`, kept in the
Reuse (asm/stages/reuse.py) under the line's number.

A line of plain ops and labels yields the same items whenever the names it
mentions have the same values, so its items are kept by those values. A line
that meets new values at every iteration (a debug key naming every loop
variable, `compare val, (round, i, "val")`) cannot be kept that way; its one
statement is kept instead as a template with a hole where the key stands,
filled in at each iteration, and lowering reuses the template's operands.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...tree import Indexed, KeyVal, Name, Num, Raw, Stmt, Str, Tup
from .model import SrcLine


class Plan:
    __slots__ = ("heads", "names", "kept", "name_set", "checked_run", "checked_macros",
                 "call", "hole", "key_node", "around", "templates", "fills")

    def __init__(self, sl: SrcLine, names: tuple[str, ...] | None, run: object,
                 macros: Mapping[str, object]) -> None:
        line = sl.line
        stmts = line.stmts
        # The statement names, which must not have become macros since.
        self.heads = tuple(s.name for s in stmts if type(s) is Stmt)
        # The names the line's items depend on; None: not reusable (it defines,
        # calls, includes or reports).
        self.names = names
        self.kept: dict[tuple, list] = {}  # the names' values -> the line's items
        self.name_set = None if names is None else frozenset(names)
        # The run and the number of macros when the heads were last checked.
        self.checked_run, self.checked_macros = run, len(macros)
        # A line that is one macro call and nothing else: that statement.
        self.call = stmts[0] if (
            names is None and len(stmts) == 1 and type(stmts[0]) is Stmt
            and stmts[0].name in macros and line.label is None and line.open is None
            and line.close is None) else None
        # The argument that is a debug key of names and constants (None: no
        # such hole), the names the rest mentions, and the rest folded by
        # their values (a statement whose hole holds the first key folded).
        self.hole = _hole(sl) if names is not None else None
        self.key_node = None if self.hole is None else stmts[0].args[self.hole]
        self.around = () if self.hole is None else \
            names_of(Stmt("", 0, [a for i, a in enumerate(stmts[0].args) if i != self.hole]))
        self.templates: dict[tuple, Stmt] = {}
        # The loop run (Expander.nest) in which the line meets new values at
        # every iteration, so its hole is filled without looking for kept items.
        self.fills: object = None


def _hole(sl: SrcLine) -> int | None:
    """The index of a lone statement's one debug-key argument: a tuple of
    names, numbers and strings naming at least one name."""
    line = sl.line
    if line.label is not None or line.open is not None or line.close is not None \
            or len(line.stmts) != 1 or type(line.stmts[0]) is not Stmt:
        return None
    s = line.stmts[0]
    if s.pin is not None:
        return None
    holes = [i for i, a in enumerate(s.args) if type(a) is Tup
             and all(type(x) in (Name, Num, Str) for x in a.items)
             and any(type(x) is Name for x in a.items)]
    return holes[0] if len(holes) == 1 else None


def names_of(s: Stmt) -> tuple[str, ...]:
    """Every name a statement's expressions mention (candidates for folding)."""
    found: list[str] = []
    for a in s.args:
        _walk_names(a, found)
    if s.pin is not None:
        _walk_names(s.pin, found)
    return tuple(dict.fromkeys(found))


def _walk_names(n, found: list[str]) -> None:
    # A module function, not a closure: a closure calling itself is a reference
    # cycle, left for the collector on every call.
    t = type(n)
    if t is Name:
        found.append(n.id)
    elif t is Indexed:
        _walk_names(n.index, found)
    elif t is Raw:
        _walk_names(n.addr, found)
    elif t is KeyVal:
        _walk_names(n.value, found)
    elif isinstance(n, Tup):
        for x in n.items:
            _walk_names(x, found)
    else:
        for attr in ("a", "b"):
            child = getattr(n, attr, None)
            if child is not None:
                _walk_names(child, found)


def key_value(a: Tup, env: Mapping[str, object]) -> tuple | None:
    """The value of a debug key of numbers, strings and names bound to
    numbers, or None when it is not one."""
    values = []
    for x in a.items:
        tx = type(x)
        if tx is Name:
            v = env.get(x.id)
            if type(v) is not int:
                return None
            values.append(v)
        elif tx is Num or tx is Str:
            values.append(x.value)
        else:
            return None
    return tuple(values)
