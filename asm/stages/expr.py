"""Assembly-time integer expressions: folding known names, then evaluating.

Values are Python integers of any size. `/` and `%` truncate toward zero like
C and GNU as (so `-7 / 2 == -3`, `-7 % 2 == -1`); comparisons and `!` give 1
or 0. Expressions are parsed by
the grammar, never `eval`ed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..errors import ToolchainError
from ..tree import Bin, Name, Node, Num, Un, Value


class ExprError(ToolchainError):
    """An expression that cannot be computed; `pos` is the offending offset."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


def _div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _mod(a: int, b: int) -> int:
    return a - b * _div(a, b)


def _shl(a: int, b: int) -> int:
    if b > 4096:
        raise OverflowError
    return a << b


BINARY: dict[str, Callable[[int, int], int]] = {
    "+": int.__add__, "-": int.__sub__, "*": int.__mul__, "/": _div, "%": _mod,
    "<<": _shl, ">>": int.__rshift__, "&": int.__and__, "|": int.__or__, "^": int.__xor__,
    "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b), "<=": lambda a, b: int(a <= b),
    ">": lambda a, b: int(a > b), ">=": lambda a, b: int(a >= b),
}
UNARY: dict[str, Callable[[int], int]] = {
    "-": int.__neg__, "+": int.__pos__, "~": int.__invert__, "!": lambda a: int(not a),
}



def _apply(node: Bin, a: int, b: int) -> int:
    try:
        return BINARY[node.op](a, b)
    except ZeroDivisionError:
        raise ExprError(f"division by zero in '{node.op}'", node.op_pos) from None
    except (ValueError, OverflowError):
        raise ExprError(f"shift count {b} is out of range", node.op_pos) from None


def fold(node: Node, env: Mapping[str, Value]) -> Value:
    """Replace names bound in `env` and compute what is then constant."""
    t = type(node)
    if t is Num:
        return node.value
    if t is Name:
        v = env.get(node.id)
        return node if v is None else v
    if t is Bin:
        a, b = fold(node.a, env), fold(node.b, env)
        if type(a) is int and type(b) is int:
            return _apply(node, a, b)
        return Bin(node.op, _as_node(a, node.a), _as_node(b, node.b), node.op_pos)
    if t is Un:
        a = fold(node.a, env)
        if type(a) is int:
            return UNARY[node.op](a)
        return Un(node.op, _as_node(a, node.a), node.pos)
    raise ExprError("expected an expression", node.pos)


def _as_node(v: Value, where: Node) -> Node:
    return Num(v, where.pos, where.end) if type(v) is int else v


def evaluate(value: Value, lookup: Callable[[Name], int]) -> int:
    """The value of a folded expression; `lookup` gives each remaining name's."""
    t = type(value)
    if t is int:
        return value
    if t is Num:
        return value.value
    if t is Name:
        return lookup(value)
    if t is Bin:
        return _apply(value, evaluate(value.a, lookup), evaluate(value.b, lookup))
    if t is Un:
        return UNARY[value.op](evaluate(value.a, lookup))
    raise ExprError("expected an expression", value.pos)


def names(value: Value) -> list[Name]:
    """The names a folded expression still depends on."""
    t = type(value)
    if t is Name:
        return [value]
    if t is Bin:
        return names(value.a) + names(value.b)
    if t is Un:
        return names(value.a)
    return []


def unparse(value: Value) -> str:
    """Expression text the grammar parses back to the same value (nested
    operations are parenthesized, so no precedence is assumed)."""
    t = type(value)
    if t is int:
        return str(value)
    if t is Num:
        return str(value.value)
    if t is Name:
        return value.id
    if t is Bin:
        return f"{_operand(value.a)} {value.op} {_operand(value.b)}"
    if t is Un:
        return f"{value.op}{_operand(value.a)}"
    raise ExprError("expected an expression", value.pos)


def _operand(value: Value) -> str:
    text = unparse(value)
    return f"({text})" if type(value) in (Bin, Un) or text.startswith("-") else text


def rename(value: Value, names: Mapping[str, str]) -> Value:
    """The expression with each name in `names` replaced by its new name."""
    t = type(value)
    if t is Name:
        new = names.get(value.id)
        return value if new is None else Name(new, value.pos, value.end)
    if t is Bin:
        return Bin(value.op, rename(value.a, names), rename(value.b, names), value.op_pos)
    if t is Un:
        return Un(value.op, rename(value.a, names), value.pos)
    return value
