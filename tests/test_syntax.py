"""Lines that differ only in their numbers share one parse (syntax.Shapes):
it must give exactly what parsing the line itself gives, or step aside."""

from __future__ import annotations

from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from asm.errors import Diagnostic
from asm.stages.parsecache import Shapes, _slots_of, parse
from asm.stages.syntax import parse_line
from asm.tree import Node


def _dump(x):
    if isinstance(x, list):
        return [_dump(y) for y in x]
    if isinstance(x, Node) or hasattr(type(x), "__dataclass_fields__"):
        return (type(x).__name__, tuple((n, _dump(getattr(x, n))) for n in _slots_of(type(x))))
    return x


def _parsed(raw: str):
    try:
        return _dump(parse_line(raw))
    except Diagnostic as e:
        return ("error", e.message)


PIECES = ["0", "7", "12", "0x1F", "0X_a", "0b101", "0b", "0x", "1_000", "08", "99999999999999999999",
          "v", "v_0", "x1", "a.5", "$9", "@", "@3", "-", "+", "~", "(", ")", "[", "]", ",", " ",
          '"s1"', '"\\x4"', '"2 3"', "# 12 x", "{", "}", "{g}3", "val{g}", "add", "vcompare",
          "const", "load_offset", ":", "=", "<<", "*", ".rept", "lbl1:", "tmp5", "t13", "{g1}",
          "m2", ".macro", "=", ";", "0x5g", "10x5y", "1x5"]


@settings(max_examples=examples(1500))
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=14).map("".join))
def test_shared_parse_of_a_shape_is_the_parse_of_the_line(raw):
    got = Shapes().parse(raw)
    if got is not None:
        assert _dump(got) == _parsed(raw)


def test_lines_with_other_numbers_share_one_parse_but_not_their_numbers():
    shapes = Shapes()
    a = shapes.parse('vcompare v, [(0, 8, "idx"), (0, 9, "idx")]')
    b = shapes.parse('vcompare v, [(3, 7, "idx"), (3, 1, "idx")]')  # same widths
    assert len(shapes.parsed) == 1
    keys = [[x.value for x in t.items[:2]] for t in b[0].stmts[0].args[1].items]
    assert keys == [[3, 7], [3, 1]]
    first = [line[0].stmts[0].args[1].items[0].items[2] for line in (a, b)]
    assert first[0] is first[1]  # unchanged parts (the string) are shared


def test_lines_with_other_digits_in_their_names_share_one_parse_but_not_their_names():
    shapes = Shapes()
    a = shapes.parse("l1: vxor tmp5, val[8 * (16 + 5)], c1; m2 x3 = 4")
    b = shapes.parse("l7: vxor tmp9, val[8 * (17 + 3)], c3; m8 x1 = 2")
    assert len(shapes.parsed) == 1
    assert _dump(a) == _parsed("l1: vxor tmp5, val[8 * (16 + 5)], c1; m2 x3 = 4")
    assert _dump(b) == _parsed("l7: vxor tmp9, val[8 * (17 + 3)], c3; m8 x1 = 2")


def test_lines_with_other_names_of_the_same_widths_share_one_parse():
    shapes = Shapes()
    lines = ["vselect node3, tmr3, tmq3, node3", "vselect node0, tms0, tmp0, tail0",
             "vselect vals1, tms0, tmq0, add_3", ".macro m a", ".macro x y", "tail"]
    got = [shapes.parse(line) for line in lines]
    assert len(shapes.parsed) == 3  # the vselects, the .macro lines, the lone name
    for line, parsed in zip(lines, got, strict=True):
        assert _dump(parsed) == _parsed(line)


def test_a_bad_number_is_the_grammars_error():
    text = "const @1, 0x_\nconst @2, 5\n"
    errors = []
    parse(text, "f.vasm", errors)
    assert [e.message for e in errors] == ["'0x_' is not a number: digits must follow '0x'"]
