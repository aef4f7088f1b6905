"""The syntax tree of `.vasm`: what the parser (asm/stages/syntax.py) builds
and every later stage reads, the IR (asm/ir.py) included. Node offsets
count from the start of their line, so equal lines share one parse.
"""

from __future__ import annotations

from dataclasses import dataclass


class Node:
    __slots__ = ("pos", "end")


class Num(Node):
    __slots__ = ("value",)

    def __init__(self, value: int, pos: int, end: int) -> None:
        self.value, self.pos, self.end = value, pos, end


class Name(Node):
    __slots__ = ("id",)

    def __init__(self, id: str, pos: int, end: int) -> None:  # noqa: A002
        self.id, self.pos, self.end = id, pos, end


class Bin(Node):
    __slots__ = ("op", "a", "b", "op_pos", "depth")

    def __init__(self, op: str, a: Node, b: Node, op_pos: int) -> None:
        self.op, self.a, self.b, self.op_pos = op, a, b, op_pos
        self.pos, self.end = a.pos, b.end
        self.depth = 1 + max(depth(a), depth(b))


class Un(Node):
    __slots__ = ("op", "a", "depth")

    def __init__(self, op: str, a: Node, pos: int) -> None:
        self.op, self.a, self.pos, self.end = op, a, pos, a.end
        self.depth = 1 + depth(a)


def depth(node: Node) -> int:
    """How deeply an expression nests: what every walker of it recurses through."""
    t = type(node)
    if t is Bin or t is Un:
        return node.depth
    if t is Raw:
        return 1 + depth(node.addr)
    if t is Indexed:
        return 1 + depth(node.index)
    if t is Tup or t is Lst:
        return 1 + max(map(depth, node.items), default=0)
    if t is KeyVal:
        return 1 + depth(node.value)
    return 1


class Indexed(Node):
    __slots__ = ("name", "index")

    def __init__(self, name: Name, index: Node, end: int) -> None:
        self.name, self.index, self.pos, self.end = name, index, name.pos, end


class Raw(Node):
    """`@ADDR`: a raw scratch address."""

    __slots__ = ("addr",)

    def __init__(self, addr: Node, pos: int) -> None:
        self.addr, self.pos, self.end = addr, pos, addr.end


class Str(Node):
    __slots__ = ("value",)

    def __init__(self, value: str, pos: int, end: int) -> None:
        self.value, self.pos, self.end = value, pos, end


class Tup(Node):
    __slots__ = ("items",)

    def __init__(self, items: list[Node], pos: int, end: int) -> None:
        self.items, self.pos, self.end = items, pos, end


class Lst(Tup):
    __slots__ = ()


class Key(Node):
    """A debug key tuple whose items expansion has folded to numbers and
    strings: its value, ready for the slot (never produced by the parser)."""

    __slots__ = ("value",)

    def __init__(self, value: tuple, pos: int, end: int) -> None:
        self.value, self.pos, self.end = value, pos, end


class KeyVal(Node):
    """`NAME = EXPR` as an argument (`.for i = 0, 8`)."""

    __slots__ = ("name", "value")

    def __init__(self, name: Name, value: Node) -> None:
        self.name, self.value, self.pos, self.end = name, value, name.pos, value.end


@dataclass(slots=True)
class Stmt:
    """`NAME arg, ... [@ PIN]`: an op, a directive or a macro call."""

    name: str
    pos: int
    args: list[Node]
    pin: Node | None = None

    @property
    def end(self) -> int:
        last = self.pin or (self.args[-1] if self.args else None)
        return last.end if last is not None else self.pos + len(self.name)


@dataclass(slots=True)
class Assign:
    """`NAME = EXPR`."""

    name: str
    pos: int
    value: Node

    @property
    def end(self) -> int:
        return self.value.end


@dataclass(slots=True)
class Line:
    """One parsed source line. Node offsets count from the line's first
    character, so equal lines share one parse wherever they stand."""

    label: Name | None
    open: int | None  # offset of an opening '{'
    stmts: list[Stmt | Assign]
    close: int | None  # offset of a closing '}'


Value = int | Node  # an int once known, else a tree still naming labels or symbols
