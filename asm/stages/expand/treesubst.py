"""Substitution in the parse, not the text: a macro or loop body line's parse
with the values of its `{NAME}`s put in, the same tree (offsets included)
that parsing the substituted text gives, without parsing it.

Substitution is textual (asm/stages/expand/macros.py): `val[{G}]` with G =
`8 * (0 + 1)` reads `val[8 * (0 + 1)]`, and that text is what the line is.
Parsing every substituted line again was most of the cost of expanding a
kernel written with macros. Here the body line's own parse (made once, with
each `{NAME}` a name or part of one) is copied with every offset moved by
what the values added before it and each placeholder filled: a name made
whole by its value (`node{S}` -> `node1`), a number, or the value's own
parse (made once per value text) where an expression goes.

Only where the result is certainly the parse of the text: a value whose
text would bind otherwise than its tree (`{A} * 2` with A = `x + 1` reads
`x + 1 * 2`), a name that would no longer read as one, a placeholder inside
a string, anything the grammar would refuse: None, and the caller parses the
text as before (tests/test_treesubst.py holds both to the same tree).
"""

from __future__ import annotations

import functools
import re

from ...errors import Diagnostic
from ...tree import (
    Assign,
    Bin,
    Indexed,
    KeyVal,
    Line,
    Lst,
    Name,
    Node,
    Num,
    Raw,
    Stmt,
    Str,
    Tup,
    Un,
    depth,
)
from ..syntax import MAX_DEPTH, MAX_LINE, MAX_NAME, parse_int, parse_line, terminal_pattern

Spans = tuple[tuple[int, int, int], ...]  # (start, end, value length) of each placeholder

# Where a node stands, which decides what a value may be there: an argument
# (anything an argument may be); an expression between delimiters (an index,
# `= value`, a pin); an item of a tuple or list; an operand of an operator;
# the address after `@` (an atom). (Where the grammar needs a name, a label,
# an op, `NAME[`, `NAME =`, it must stay one: `name_text`.)
ARG, EXPR, KEY, OPERAND, ATOM = range(5)
_EXPRESSIONS = (Num, Name, Bin, Un)
_ALLOWED = {ARG: (Num, Name, Bin, Un, Indexed, Raw, Str, Tup, Lst, KeyVal),
            EXPR: _EXPRESSIONS, KEY: (*_EXPRESSIONS, Str, Tup),
            OPERAND: (Num, Name, Un), ATOM: (Num, Name)}
_WS = " \t\f\r"  # the grammar's WS


class _Refused(Exception):
    """This line is left to the parser."""


@functools.cache
def _name_re() -> re.Pattern:
    return re.compile(terminal_pattern("NAME"))


@functools.cache
def _int_re() -> re.Pattern:
    return re.compile(terminal_pattern("INT"))


@functools.lru_cache(maxsize=16384)
def _value_at(value: str, pos: int) -> Node | None:
    """A placeholder's value as the text would parse it standing at `pos`
    where an argument goes (None: it is no one argument). Shared by every
    line that has it there: never changed (nodes never are)."""
    if len(value) <= MAX_NAME and not value.startswith(".macro") \
            and _name_re().fullmatch(value):
        return Name(value, pos, pos + len(value))
    if _int_re().fullmatch(value):
        try:
            return Num(parse_int(value), pos, pos + len(value))
        except ValueError:
            return None
    tree = _value_tree(value)
    return None if tree is None else _moved(tree, pos - 2)


@functools.lru_cache(maxsize=4096)
def _value_tree(value: str) -> Node | None:
    """A value's own parse as an argument, at offset 2 (None: not one argument)."""
    try:
        lines = parse_line("a " + value)
    except Diagnostic:
        return None
    if len(lines) != 1:
        return None
    line = lines[0]
    if line.label is not None or line.open is not None or line.close is not None \
            or len(line.stmts) != 1 or type(line.stmts[0]) is not Stmt:
        return None
    s = line.stmts[0]
    return s.args[0] if len(s.args) == 1 and s.pin is None else None


def substituted_line(line: Line, text: str, new_text: str, spans: Spans) -> Line | None:
    """The parse of `new_text`, which is `text` (whose parse is `line`) with
    the placeholder at each of `spans` replaced, or None when that cannot be
    told without parsing it."""
    if len(new_text) > MAX_LINE or not spans:
        return None
    try:
        return _Filler(text, new_text, spans).line(line)
    except _Refused:
        return None


class _Filler:
    """One substitution: the body line's text, the substituted text and the
    placeholders' spans; its methods copy the body line's nodes into the
    substituted line's (raising _Refused where the text must be parsed)."""

    def __init__(self, text: str, new_text: str, spans: Spans) -> None:
        self.text, self.new_text, self.spans = text, new_text, spans
        self.first = spans[0][0]  # nothing before it moves
        self.filled = 0  # placeholders met in the line's tokens

    def at(self, p: int) -> int:
        """Where offset `p` of the body line is in the substituted one."""
        d = 0
        for start, end, width in self.spans:
            if end > p:
                break
            d += width - (end - start)
        return p + d

    def inside(self, pos: int, end: int) -> list[tuple[int, int, int]]:
        return [s for s in self.spans if s[0] >= pos and s[1] <= end]

    # ------------------------------------------------------------ lines

    def line(self, x: Line) -> Line:
        label = None if x.label is None else self.name_node(x.label)
        stmts = [self.stmt(s) for s in x.stmts]
        if self.filled < len(self.spans):
            # The others must be in the comment: anywhere else, this walk
            # has missed a token the text would change.
            last = max([0 if x.label is None else x.label.end + 1,
                        0 if x.open is None else x.open + 1,
                        0 if x.close is None else x.close + 1, *(s.end for s in x.stmts)])
            rest = self.text[last:]
            hash_at = last + len(rest) - len(rest.lstrip(_WS))
            if self.text[hash_at:hash_at + 1] != "#" or self.spans[self.filled][0] < hash_at:
                raise _Refused
        return Line(label, None if x.open is None else self.at(x.open), stmts,
                    None if x.close is None else self.at(x.close))

    def stmt(self, x: Stmt | Assign):
        if type(x) is Assign:
            return Assign(self.name_text(x.name, x.pos), self.at(x.pos),
                          self.node(x.value, EXPR))
        if x.name == ".macro":  # (its own token: a definition is never substituted)
            raise _Refused
        pin = None if x.pin is None else self.node(x.pin, EXPR)
        return Stmt(self.name_text(x.name, x.pos), self.at(x.pos),
                    [self.node(a, ARG) for a in x.args], pin)

    # ------------------------------------------------------------ names

    def name_text(self, name: str, pos: int) -> str:
        """A name the grammar needs as a name, substituted."""
        end = pos + len(name)
        inside = self.inside(pos, end)
        if not inside:
            return name
        self.filled += len(inside)
        new = self.new_text[self.at(pos):self.at(end)]
        if len(new) > MAX_NAME or new.startswith(".macro") or not _name_re().fullmatch(new):
            raise _Refused
        return new

    def name_node(self, x: Name) -> Name:
        if x.end <= self.first:
            return x
        return Name(self.name_text(x.id, x.pos), self.at(x.pos), self.at(x.end))

    # ------------------------------------------------------------ nodes

    def node(self, x: Node, where: int) -> Node:
        if x.end <= self.first:  # (before every placeholder: nothing changes)
            return x
        t = type(x)
        if t is Name:
            return self.name(x, where)
        if t is Num:
            return Num(x.value, self.at(x.pos), self.at(x.end))
        if t is Bin:
            a, b = self.node(x.a, OPERAND), self.node(x.b, OPERAND)
            y = object.__new__(Bin)
            y.op, y.a, y.b, y.op_pos = x.op, a, b, self.at(x.op_pos)
            # (a parenthesized operation keeps its parentheses in its offsets)
            y.pos = a.pos if x.pos == x.a.pos else self.at(x.pos)
            y.end = b.end if x.end == x.b.end else self.at(x.end)
            y.depth = 1 + max(depth(a), depth(b))
            if y.depth > MAX_DEPTH:
                raise _Refused
            return y
        if t is Un:
            a = self.node(x.a, OPERAND)
            y = object.__new__(Un)
            y.op, y.a, y.pos = x.op, a, self.at(x.pos)
            y.end = a.end if x.end == x.a.end else self.at(x.end)
            y.depth = 1 + depth(a)
            if y.depth > MAX_DEPTH:
                raise _Refused
            return y
        if t is Indexed:
            return Indexed(self.name_node(x.name), self.node(x.index, EXPR), self.at(x.end))
        if t is Raw:
            addr = self.node(x.addr, ATOM)
            y = Raw(addr, self.at(x.pos))
            y.end = addr.end if x.end == x.addr.end else self.at(x.end)
            return y
        if t is Str:
            if self.inside(x.pos, x.end):
                raise _Refused  # (a placeholder in a string: its escapes are the parser's)
            return Str(x.value, self.at(x.pos), self.at(x.end))
        if t is Tup or t is Lst:
            return t([self.node(i, KEY) for i in x.items], self.at(x.pos), self.at(x.end))
        if t is KeyVal:
            value = self.node(x.value, EXPR)
            y = KeyVal(self.name_node(x.name), value)
            y.end = value.end if x.end == x.value.end else self.at(x.end)
            return y
        raise _Refused

    def name(self, x: Name, where: int) -> Node:
        inside = self.inside(x.pos, x.end)
        whole = len(inside) == 1 and inside[0][0] == x.pos and inside[0][1] == x.end
        if not whole:
            return self.name_node(x)
        # A placeholder standing alone where an expression goes: the value's
        # own tree, as the text would parse.
        self.filled += 1
        pos = self.at(x.pos)
        value = self.new_text[pos:pos + inside[0][2]]
        tree = _value_at(value, pos)
        if tree is None:
            raise _Refused
        kind = type(tree)
        wrapped = self._parentheses(x.pos, x.end)
        if wrapped is not None:
            # `({A})`: any expression, its parentheses those around it.
            if kind not in _EXPRESSIONS:
                raise _Refused
            if kind is Bin or kind is Un:
                tree = _copy(tree)  # (the tree is shared: see _value_at)
                tree.pos, tree.end = self.at(wrapped[0]), self.at(wrapped[1])
            return tree
        if kind not in _ALLOWED[where] and not (
                (kind is Bin or kind is Un) and where in (OPERAND, ATOM) and _enclosed(value)):
            raise _Refused  # (it would bind otherwise, or not parse, as text)
        return tree

    def _parentheses(self, pos: int, end: int) -> tuple[int, int] | None:
        """The outermost parentheses around nothing but text[pos:end] (their
        offsets: the opening one, one past the closing one), or None."""
        text = self.text
        found = None
        i, j = pos - 1, end
        while True:
            while i >= 0 and text[i] in _WS:
                i -= 1
            while j < len(text) and text[j] in _WS:
                j += 1
            if i < 0 or j >= len(text) or text[i] != "(" or text[j] != ")":
                return found
            found = (i, j + 1)
            i, j = i - 1, j + 1


def _enclosed(value: str) -> bool:
    """Whether an expression's text is one pair of parentheses and what they
    hold (`(a + b)`, not `(a) + (b)`)."""
    if value[:1] != "(" or value[-1:] != ")":
        return False
    level = 0
    for k, c in enumerate(value):
        level += (c == "(") - (c == ")")
        if level == 0:
            return k == len(value) - 1
    return False


def _copy(x: Bin | Un) -> Bin | Un:
    y = object.__new__(type(x))
    for field in type(x).__slots__ + Node.__slots__:
        setattr(y, field, getattr(x, field))
    return y


def _moved(x: Node, delta: int) -> Node:
    """A copy of a value's tree with every offset moved by `delta`."""
    t = type(x)
    if t is Num:
        return Num(x.value, x.pos + delta, x.end + delta)
    if t is Name:
        return Name(x.id, x.pos + delta, x.end + delta)
    if t is Str:
        return Str(x.value, x.pos + delta, x.end + delta)
    if t is Bin:
        y = object.__new__(Bin)
        y.op, y.a, y.b, y.op_pos = x.op, _moved(x.a, delta), _moved(x.b, delta), x.op_pos + delta
        y.pos, y.end, y.depth = x.pos + delta, x.end + delta, x.depth
        return y
    if t is Un:
        y = object.__new__(Un)
        y.op, y.a, y.pos, y.end, y.depth = x.op, _moved(x.a, delta), x.pos + delta, \
            x.end + delta, x.depth
        return y
    if t is Indexed:
        return Indexed(_moved(x.name, delta), _moved(x.index, delta), x.end + delta)
    if t is Raw:
        y = Raw(_moved(x.addr, delta), x.pos + delta)
        y.end = x.end + delta
        return y
    if t is Tup or t is Lst:
        return t([_moved(i, delta) for i in x.items], x.pos + delta, x.end + delta)
    if t is KeyVal:
        y = KeyVal(_moved(x.name, delta), _moved(x.value, delta))
        y.end = x.end + delta
        return y
    raise _Refused
