"""Parsing a whole file, each distinct line once: a kernel repeats lines a lot,
and lines that differ only in their numbers share one parse too (`Shapes`).
One line's parse, and its messages, are asm/stages/syntax.py's.
"""

from __future__ import annotations

import functools
import re

from ..errors import Diagnostic, ToolchainError
from ..tree import Assign, Bin, Indexed, KeyVal, Line, Lst, Name, Num, Raw, Stmt, Str, Tup, Un
from .syntax import MAX_LINE, parse_int, parse_line, terminal_pattern


def parse(text: str, filename: str | None = None,
          errors: list[ToolchainError] | None = None) -> list[tuple[int, Line]]:
    """Parse a file into (line number, Line) pairs, skipping blank lines.

    Each distinct line text is parsed once (kernels repeat lines a lot), and
    lines that differ only in their numbers share one parse too (see
    `Shapes`). Syntax errors go to `errors`, every bad line once; without
    `errors` the first is raised.
    """
    seen: dict[str, list[Line]] = {}
    shapes = Shapes()
    out: list[tuple[int, Line]] = []
    for lineno, raw in enumerate(text.split("\n"), 1):
        got = seen.get(raw)
        if got is None:
            stripped = raw.lstrip(" \t\f\r")  # the grammar's WS (str.lstrip takes more)
            if not stripped or stripped[0] == "#":
                continue
            try:
                if len(raw) > MAX_LINE:
                    parse_line(raw, filename, lineno)  # says so
                got = shapes.parse(raw)
                if got is None:
                    got = parse_line(raw, filename, lineno)
            except Diagnostic as err:
                if errors is None:
                    raise
                # Kept without its traceback, whose frames would hold this list
                # (and everything it leads to) in a reference cycle.
                errors.append(err.with_traceback(None))
                got = []
            seen[raw] = got
        for line in got:
            out.append((lineno, line))
    return out


@functools.cache
def _number_tokens() -> re.Pattern:
    """A number token where the lexer sees one (group 1), or a name (group
    2): neither part of a name (a name character or
    substitution brace before, or after a number), a string or a comment
    (those are matched first and left alone). The token patterns are the
    grammar's own terminals."""
    t = terminal_pattern
    return re.compile(f"{t('STRING')}|{t('COMMENT')}"
                      f"|(?<![A-Za-z0-9_.$}}])({t('INT')})(?![A-Za-z0-9_.${{])"
                      f"|(?<![A-Za-z0-9_.$}}])({t('NAME')})")


# The one name the grammar sets apart (its own token): a name that starts
# with it keeps its letters in the shape, as the lexer may split it.
_KEYWORD = ".macro"


class Shapes:
    """Lines that differ only in their numbers, their names and their comments
    (`vcompare v, [(0, 8, "idx"), ...]`, `const @391, 3550635116`, `vxor tmp5,
    val[8 * (16 + 5)], c1  # group 5`, `vselect node3, tmr3, node3, tmq3`)
    parse alike: each number is replaced by zeros of the same width, each name
    by as many `a`s (the grammar tells no name from another but `.macro`), and
    the comment dropped; that shape is parsed once by the grammar, and each
    line gets the shape's nodes with its own numbers and names put back
    (offsets are unchanged, since widths are). A line whose numbers do not
    all read as numbers, or whose shape does not parse, is left to the parser
    itself, so its error is the grammar's own."""

    def __init__(self) -> None:
        self.parsed: dict[str, list[Line] | None] = {}

    def parse(self, raw: str) -> list[Line] | None:
        values: dict[int, int | str] = {}  # offset -> a number's value or a name
        parts: list[str] = []
        last = 0
        comment = False
        for m in _number_tokens().finditer(raw):
            number, name = m.group(1), m.group(2)
            if m.group(0)[0] == "#":  # a comment: nothing of it reaches a node
                parts.append(raw[last:m.start()])
                last = m.end()
                comment = True
            elif number is not None:
                try:
                    values[m.start(1)] = parse_int(number)
                except ValueError:
                    return None
                parts.append(raw[last:m.start(1)])
                parts.append("0" * len(number))
                last = m.end(1)
            elif name is not None and not name.startswith(_KEYWORD):
                values[m.start(2)] = name
                parts.append(raw[last:m.start(2)])
                parts.append("a" * len(name))
                last = m.end(2)
        if not values and not comment:  # nothing to share
            return None
        parts.append(raw[last:])
        shape = "".join(parts)
        lines = self.parsed.get(shape, self)
        if lines is self:
            try:
                lines = self.parsed[shape] = parse_line(shape)
            except Diagnostic:
                lines = self.parsed[shape] = None
        if lines is None:
            return None
        return [_renumbered(line, values) for line in lines]


def _slots_of(cls: type) -> tuple[str, ...]:
    return tuple(name for c in reversed(cls.__mro__) for name in getattr(c, "__slots__", ()))


def _renumbered(x, values: dict[int, int | str]):
    """`x` with the number or name at each offset in `values` set to it;
    parts without one are shared, not copied. (One function per node
    type: this runs for every line a shape is shared with.)"""
    return _RENUMBER[type(x)](x, values)


def _same(x, values):
    return x


def _renumbered_num(x: Num, values):
    v = values.get(x.pos)
    return x if v is None or v == x.value else Num(v, x.pos, x.end)


def _renumbered_name(x: Name, values):
    v = values.get(x.pos)
    return x if v is None else Name(v, x.pos, x.end)


def _renumbered_list(x: list, values):
    new = [_RENUMBER[type(y)](y, values) for y in x]
    for a, b in zip(new, x, strict=True):
        if a is not b:
            return new
    return x


def _renumbered_bin(x: Bin, values):
    a, b = _RENUMBER[type(x.a)](x.a, values), _RENUMBER[type(x.b)](x.b, values)
    if a is x.a and b is x.b:
        return x
    y = object.__new__(Bin)
    y.op, y.a, y.b, y.op_pos, y.depth, y.pos, y.end = x.op, a, b, x.op_pos, x.depth, x.pos, x.end
    return y


def _renumbered_un(x: Un, values):
    a = _RENUMBER[type(x.a)](x.a, values)
    if a is x.a:
        return x
    y = object.__new__(Un)
    y.op, y.a, y.depth, y.pos, y.end = x.op, a, x.depth, x.pos, x.end
    return y


def _renumbered_indexed(x: Indexed, values):
    name = _renumbered_name(x.name, values)
    index = _RENUMBER[type(x.index)](x.index, values)
    return x if index is x.index and name is x.name else Indexed(name, index, x.end)


def _renumbered_raw(x: Raw, values):
    addr = _RENUMBER[type(x.addr)](x.addr, values)
    if addr is x.addr:
        return x
    y = Raw(addr, x.pos)
    y.end = x.end
    return y


def _renumbered_tup(x: Tup, values):
    items = _renumbered_list(x.items, values)
    return x if items is x.items else type(x)(items, x.pos, x.end)


def _renumbered_keyval(x: KeyVal, values):
    name = _renumbered_name(x.name, values)
    value = _RENUMBER[type(x.value)](x.value, values)
    if value is x.value and name is x.name:
        return x
    y = KeyVal(name, value)
    y.end = x.end
    return y


def _renumbered_stmt(x: Stmt, values):
    name = values.get(x.pos, x.name)
    args = _renumbered_list(x.args, values)
    pin = x.pin if x.pin is None else _RENUMBER[type(x.pin)](x.pin, values)
    return x if args is x.args and pin is x.pin and name is x.name else \
        Stmt(name, x.pos, args, pin)


def _renumbered_assign(x: Assign, values):
    name = values.get(x.pos, x.name)
    value = _RENUMBER[type(x.value)](x.value, values)
    return x if value is x.value and name is x.name else Assign(name, x.pos, value)


def _renumbered_line(x: Line, values):
    label = x.label if x.label is None else _renumbered_name(x.label, values)
    stmts = _renumbered_list(x.stmts, values)
    return x if stmts is x.stmts and label is x.label else Line(label, x.open, stmts, x.close)


_RENUMBER = {Num: _renumbered_num, Name: _renumbered_name, Str: _same, list: _renumbered_list,
             Bin: _renumbered_bin, Un: _renumbered_un, Indexed: _renumbered_indexed,
             Raw: _renumbered_raw, Tup: _renumbered_tup, Lst: _renumbered_tup,
             KeyVal: _renumbered_keyval, Stmt: _renumbered_stmt, Assign: _renumbered_assign,
             Line: _renumbered_line}
