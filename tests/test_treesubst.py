"""Substitution in the parse (asm/stages/expand/treesubst.py) gives exactly
the tree that parsing the substituted text gives, offsets included, or
leaves the line to the parser; and it does fill the lines kernels write."""

from __future__ import annotations

import dataclasses

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from asm.errors import Diagnostic
from asm.source import Src
from asm.stages.expand.macros import _replace
from asm.stages.expand.treesubst import substituted_line
from asm.stages.syntax import parse_line
from asm.tree import Node


def dump(x):
    """A tree as plain values, every field and offset in it."""
    if isinstance(x, list):
        return [dump(y) for y in x]
    if isinstance(x, Node):
        fields = [f for c in type(x).__mro__ for f in getattr(c, "__slots__", ())]
        return (type(x).__name__, *[(f, dump(getattr(x, f))) for f in sorted(fields)])
    if dataclasses.is_dataclass(x):
        return (type(x).__name__, *[(f.name, dump(getattr(x, f.name)))
                                    for f in dataclasses.fields(x)])
    return x


def both(template: str, bound: dict[str, str]):
    """(the tree substitution, the parse of the substituted text or the
    parser's message)."""
    line = parse_line(template)[0]
    text, colmap = _replace(template, Src(None, 1, None, None, ()), bound)
    assert text is not None
    filled = substituted_line(line, template, text, colmap.spans)
    try:
        parsed = dump(parse_line(text)[0])
    except Diagnostic as e:
        parsed = e.message
    return filled, parsed


# What kernels write in macro bodies, with what their calls pass.
WRITTEN = [
    ("vxor          val[{G}], val[{G}], node{S}", {"G": "8 * (0 + 1)", "S": "1"}),
    ("    .if ({D} == 3) & ({P4})", {"D": "RD", "P4": "RSECOND & (1 + 0 < 4)"}),
    ("        .if !({PEND})", {"PEND": "PENDING"}),
    ("RD = {r} % (HEIGHT + 1)", {"r": "12"}),
    ("round {G}, {S}, RD, RLAST  # group {G}", {"G": "8 * (2 + 1)", "S": "3"}),
    ("skip{@}: vadd v{i}, v{i}, c  # lane {i}", {"@": "17", "i": "5"}),
    ('compare val, (r, {i}, "val")', {"i": "-3"}),
    ("{ vadd a, b, c; add x{i}, y, 2 * {i} }", {"i": "4"}),
    ("load_offset   node{S}, addr[{G}], {lane}", {"S": "0", "G": "8 * (1)", "lane": "7"}),
]


@pytest.mark.parametrize("template, bound", WRITTEN)
def test_the_lines_kernels_write_are_filled_as_they_parse(template, bound):
    filled, parsed = both(template, bound)
    assert filled is not None
    assert dump(filled) == parsed


# Values that bind otherwise as text, would not read as a name, or stand in a
# string: left to the parser (which may accept the line, or not).
REFUSED = [
    ("add a, b, {A} * 2", {"A": "x + 1"}),  # (x + 1 * 2)
    ("add a, b, 2 * {A}", {"A": "(x) * (y)"}),  # parentheses, but not around all
    ("add a, {A}x, c", {"A": "1"}),  # 1x is no name
    ("add a, x{A}, c", {"A": "y + 1"}),
    ('trace "{A}"', {"A": "x"}),
    ("add v[{A}], b, c", {"A": "(1, 2)"}),
    ("add a, @{A}, c", {"A": "x + 1"}),
    ("{A}: add a, b, c", {"A": "3"}),
]


@pytest.mark.parametrize("template, bound", REFUSED)
def test_what_would_read_otherwise_is_left_to_the_parser(template, bound):
    filled, _ = both(template, bound)
    assert filled is None


# ------------------------------------------------------------ random lines

# (operations unparenthesized are many: how they bind is the likeliest mistake)
VALUES = ["x", "node7", "12", "0x1F", "0b101", "1_000", "-3", "x + 1", "y - 2", "a | b",
          "p * q", "m >> 1", "a == b", "a < b", "(x + 1)", "(a) * (b)", "~y", "!(a == 1)",
          "v[3]", "@5", "@(1 + 2)", "(1, 2)", "[1, 2]", '"s"', '"a#b"', "k = 2", ".macro",
          ".x", "$r", "{Z}", "1x", "a" * 1001, "((a + b))", "- -1"]

NAMES = st.sampled_from(["x", "{A}", "{B}", "n{A}", "{A}x", "v{A}{B}", "{@}", "_{B}9"])
OPERATORS = st.sampled_from([" + ", " - ", " * ", " << ", " == ", " & ", "|", "-", "<", " % "])


def _expressions(inner):
    return st.one_of(
        st.tuples(inner, OPERATORS, inner).map("".join),
        st.tuples(st.sampled_from(["-", "~", "!", "- "]), inner).map("".join),
        st.tuples(st.sampled_from(["(", "( "]), inner, st.sampled_from([")", " )"]))
        .map("".join))


EXPRESSIONS = st.recursive(st.one_of(NAMES, st.sampled_from(["7", "0x1f", "3"])),
                           _expressions, max_leaves=6)
ARGS = st.one_of(
    EXPRESSIONS,
    st.tuples(NAMES, EXPRESSIONS).map(lambda t: f"{t[0]}[{t[1]}]"),
    st.tuples(st.sampled_from(["@", "@ "]), st.one_of(NAMES, EXPRESSIONS.map(
        lambda e: f"({e})"))).map("".join),
    st.lists(st.one_of(EXPRESSIONS, st.just('"k{A}"'), st.just('"k"')), min_size=2,
             max_size=3).map(lambda xs: f"({', '.join(xs)})"),
    st.lists(EXPRESSIONS, max_size=2).map(lambda xs: f"[{', '.join(xs)}]"),
    st.tuples(NAMES, EXPRESSIONS).map(lambda t: f"{t[0]} = {t[1]}"),
    st.just('"t{B}"'))
STATEMENTS = st.one_of(
    st.tuples(st.sampled_from(["add", "op{A}", "{A}", ".if"]),
              st.lists(ARGS, max_size=3),
              st.one_of(st.just(""), EXPRESSIONS.map(lambda e: f" @ {e}")))
    .map(lambda t: f"{t[0]} {', '.join(t[1])}{t[2]}".rstrip()),
    st.tuples(NAMES, EXPRESSIONS).map(lambda t: f"{t[0]} = {t[1]}"))
LINES = st.tuples(
    st.sampled_from(["", "here: ", "l{A}: ", "   "]),
    st.sampled_from(["", "{ "]),
    st.lists(STATEMENTS, min_size=1, max_size=2).map("; ".join),
    st.sampled_from(["", " }"]),
    st.sampled_from(["", "  # {A} and {B}", "#{@}"]),
).map("".join)


@settings(max_examples=examples(400))
@given(LINES, st.sampled_from(VALUES), st.sampled_from(VALUES), st.sampled_from(VALUES))
def test_a_filled_line_is_the_parse_of_its_text(template, a, b, at):
    try:
        parse_line(template)
    except Diagnostic:
        return  # (a body line that does not parse never reaches substitution)
    bound = {"A": a, "B": b, "@": at}
    if "{" not in template or all("{" + k + "}" not in template for k in bound):
        return
    filled, parsed = both(template, bound)
    if filled is not None:
        assert dump(filled) == parsed
