"""The alias model: what the scheduler knows of the addresses a block's loads
and stores use, so that accesses it can tell apart need not stay in order.

An address is a constant, a root plus an offset (a root is the value some
word held at block entry or got from a load; `.restrict` words are roots
whose regions are disjoint), or unknown. Values are followed through the
ISA table's meanings (asm/isa.py) of scalar ops: an immediate is a constant,
`+` adds, `& 0xFFFFFFFF` keeps a word, and a word read from memory is a fresh
root; anything else is unknown, and so is every word a lane-wise op writes.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple, Protocol

from .. import isa


class ValuedOp(Protocol):
    """What the model reads of an op (deps.OpNode has it)."""

    index: int
    op: isa.Op
    slot: tuple
    writes: tuple[int, ...]


class Const(NamedTuple):
    """A word whose value is known."""

    value: int


class Root(NamedTuple):
    """A value nothing in the block computes: what `word` held at block entry
    (origin "entry") or what the load at node `origin` read into it."""

    word: int
    origin: int | str


class Based(NamedTuple):
    """A root plus an offset (None: an offset the model cannot see)."""

    root: Root
    offset: int | None


class _Unknown:
    """Anything the model cannot follow (as a value, or as a memory region)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()
CONST = "constant addresses"  # the memory region of every Const address
Value = Const | Based | _Unknown
Region = Root | str | _Unknown  # a Root's region, CONST, or UNKNOWN


def entry_value(w: int) -> Based:
    """What a word holds at block entry when nothing is known of it."""
    return Based(Root(w, "entry"), 0)


# ---------------------------------------------------------------- values from the table


@dataclass(frozen=True)
class ValueRule:
    """How an op's written value follows from the values it reads, read off its
    meaning: `inputs`, the operands (by slot position) whose values it uses;
    `loaded`, whether the value comes from memory (a fresh root); `expr`, the
    meaning's value expression, followed by `_follow` (None: unknown)."""

    inputs: tuple[int, ...] = ()
    loaded: bool = False
    expr: ast.expr | None = None


@cache
def value_rule(op: isa.Op) -> ValueRule:
    """The op's rule (see ValueRule). Only scalar ops are followed."""
    m = op.meaning
    if m.value is None or m.lanes != 1:
        return ValueRule()
    tree = ast.parse(m.value, mode="eval").body
    if isinstance(tree, ast.Subscript):  # mem[...]: what a load reads
        return ValueRule(loaded=True)
    if not _followed(tree):
        return ValueRule()
    position = {o.name: k + 1 for k, o in enumerate(op.operands)}
    scratch = {o.name for o in op.operands if o.kind is isa.Kind.SRC}
    used = sorted({position[n.id] for n in ast.walk(tree)
                   if isinstance(n, ast.Name) and n.id in scratch})
    return ValueRule(tuple(used), expr=tree)


def _followed(tree: ast.expr) -> bool:
    """Whether `_follow` can read the expression: names, numbers, `+`, and
    `& 0xFFFFFFFF`."""
    if isinstance(tree, ast.Name):
        return True
    if isinstance(tree, ast.Constant):
        return type(tree.value) is int
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.Add):
        return _followed(tree.left) and _followed(tree.right)
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.BitAnd):
        return (isinstance(tree.right, ast.Constant) and tree.right.value == isa.WORD_MASK
                and _followed(tree.left))
    return False


def effect(node: ValuedOp, get: Callable[[int], Value], restricted: set[int]) -> dict[int, Value]:
    """The values an op writes, `get` giving each word's value before its bundle."""
    rule = value_rule(node.op)
    if rule.loaded:
        # A loaded word is a fresh root (a pointer read from memory, say).
        return {w: Based(Root(w, node.index), 0) for w in node.writes}
    if rule.expr is None:
        return {w: UNKNOWN for w in node.writes}
    op, slot = node.op, node.slot
    off = slot[op.offset_index] if op.offset_index is not None else 0
    env: dict[str, Value] = {}
    for k, o in enumerate(op.operands):
        if o.kind is isa.Kind.SRC:
            env[o.name] = get(slot[k + 1] + off)
        elif o.kind is isa.Kind.IMM:
            env[o.name] = Const(slot[k + 1] & isa.WORD_MASK)
    return {w: _follow(rule.expr, env, restricted) for w in node.writes}


def inputs(node: ValuedOp) -> tuple[int, ...]:
    """The words `effect` reads for the value it gives."""
    rule = value_rule(node.op)
    if not rule.inputs:
        return ()
    off = node.slot[node.op.offset_index] if node.op.offset_index is not None else 0
    return tuple(node.slot[k] + off for k in rule.inputs)


def _follow(tree: ast.expr, env: dict[str, Value], restricted: set[int]) -> Value:
    if isinstance(tree, ast.Name):
        return env.get(tree.id, UNKNOWN)
    if isinstance(tree, ast.Constant):
        return Const(tree.value & isa.WORD_MASK)
    assert isinstance(tree, ast.BinOp)
    left = _follow(tree.left, env, restricted)
    if isinstance(tree.op, ast.BitAnd):  # & 0xFFFFFFFF: a word already
        return left
    return add_in(left, _follow(tree.right, env, restricted), restricted)


def add_in(a: Value, b: Value, restricted: set[int]) -> Value:
    """a + b, where a `.restrict` pointer plus anything stays in that pointer's region."""
    if type(a) is Based and type(b) is Based:
        ra, rb = a.root.word in restricted, b.root.word in restricted
        if ra != rb:
            return Based((a if ra else b).root, None)
    return _add(a, b)


def _add(a: Value, b: Value) -> Value:
    ta, tb = type(a), type(b)
    if ta is Const and tb is Const:
        return Const((a.value + b.value) & isa.WORD_MASK)
    if ta is Based and tb is Const:
        return Based(a.root, None if a.offset is None else a.offset + b.value)
    if tb is Based and ta is Const:
        return Based(b.root, None if b.offset is None else b.offset + a.value)
    if ta is Based and b is UNKNOWN:  # base plus an index we cannot see
        return Based(a.root, None)
    if tb is Based and a is UNKNOWN:
        return Based(b.root, None)
    return UNKNOWN


# ---------------------------------------------------------------- regions


def region_of(addr: Value) -> Region:
    """The memory region an address falls in."""
    if type(addr) is Const:
        return CONST
    if type(addr) is Based:
        return addr.root
    return UNKNOWN


def disjoint(r1: Region, r2: Region, restrict_sets: Iterable[set[int]]) -> bool:
    """Whether no address of one region is an address of the other: two roots
    named together in one `.restrict`."""
    if r1 is UNKNOWN or r2 is UNKNOWN or r1 == r2:
        return False
    if type(r1) is Root and type(r2) is Root:
        w1, w2 = r1.word, r2.word
        return w1 != w2 and any(w1 in s and w2 in s for s in restrict_sets)
    return False


def words_of(addr: Value, width: int) -> list[int] | None:
    """The words an access of `width` touches, when the model can tell: exact
    for a constant address, and (as offsets) within a root's region."""
    if type(addr) is Const:
        return list(range(addr.value, addr.value + width))
    if type(addr) is Based and addr.offset is not None:
        return list(range(addr.offset, addr.offset + width))
    return None


def regions() -> defaultdict:
    """A table of accesses by region, then by word (None: somewhere in it)."""
    return defaultdict(dict)
