"""Classes of bad input that once ended in a Python traceback (issue 23):
each reproducer through every command it reaches, and a generator of the
whole class. Each must end in our own message and exit status 1 or 2.

The source-side messages have golden files too (tests/diagnostics/58-69)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz import FUZZ, SMALL_KERNELS, _clean, edited, fresh_dir, time_limit

from asm.cli import main as vasm
from asm.diagnostics import render_all
from asm.errors import ToolchainError
from asm.kernel import loads_kernel
from asm.linking.objects import loads_object
from asm.stages.assembler import assemble_full
from asm.views.fmt import format_source
from asm.views.lint import lint
from emu.cli import main as vemu

ROOT = Path(__file__).parent.parent
KERNEL = '{"format": "vliw-kernel", "version": 1, "program": [{"alu": [["+", 1, 2, 3]]}]}'


def run(tool, args: list[str], input: str | None = None):  # noqa: A002
    with time_limit():
        result = CliRunner().invoke(tool, args, input=input)
    _clean(result)
    assert result.exit_code != 0, result.output
    return result.output


# ---------------------------------------------------------------- 1. long expressions

LONG_SUM = "const a, " + " + ".join(["1"] * 1000)
LONG_UNARY = "const a, " + "-" * 1000 + "1"


@pytest.mark.parametrize("line", [LONG_SUM, LONG_UNARY], ids=["sum", "unary"])
def test_long_expressions_are_refused_at_their_line_by_every_command(tmp_path, line):
    src = tmp_path / "k.vasm"
    src.write_text(f".scratch a\n    {line}\n    halt\n")
    out = tmp_path / "k.json"
    for tool, args in [(vasm, ["assemble", str(src), "-o", str(out)]),
                       (vasm, ["assemble", "-c", str(src), "-o", str(tmp_path / "k.vo")]),
                       (vasm, ["assemble", "--schedule", str(src), "-o", str(out)]),
                       (vasm, ["check", str(src)]),
                       (vasm, ["fmt", str(src)]),
                       (vemu, ["run", str(src)])]:
        text = run(tool, args)
        assert "k.vasm:2:" in text and "nested too deeply (more than 200 levels)" in text, \
            (args, text)


def test_an_expression_at_the_limit_still_assembles(tmp_path):
    result = assemble_full(".scratch a\nconst a, " + "-" * 199 + "1\nhalt\n")
    assert result.kernel is not None
    assert result.kernel.program[0]["load"][0][2] == -1  # 199 minus signs


def _expression(depth: int, draw) -> str:
    """An expression about `depth` levels deep, of every kind of nesting."""
    text = str(draw(st.integers(0, 9)))
    for _ in range(depth):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            text = f"{draw(st.sampled_from('-~!+'))}{text}"
        elif kind == 1:
            text = f"({text} {draw(st.sampled_from(['+', '*', '|', '<<', '==']))} 1)"
        elif kind == 2:
            text = f"1 {draw(st.sampled_from(['+', '-', '&', '^']))} ({text})"
        else:
            text = f"{text} + 1"
    return text


@FUZZ
@given(st.data())
def test_expressions_of_any_depth_assemble_or_are_refused(data):
    depth = data.draw(st.integers(0, 600))
    expr = _expression(depth, data.draw)
    where = data.draw(st.sampled_from([
        "const a, {}", ".equ E, {}\nconst a, E", ".if {}\n.endif", "const a, 0 & ({})",
        ".rept ({}) & 1\n.endr", "load a, @({}) & 7"]))
    text = ".scratch a\n" + where.format(expr) + "\nhalt\n"
    with time_limit():
        result = assemble_full(text, filename="e.vasm")
    if result.kernel is None:
        assert "error" in render_all(result.diagnostics, result.sources)
    with time_limit(), contextlib.suppress(ToolchainError):
        format_source(text, filename="e.vasm")


# ---------------------------------------------------------------- 2. deep nesting

@pytest.mark.parametrize("opener,closer", [(".if 1", ".endif"), (".for i{} = 0, 1", ".endfor"),
                                           (".rept 1", ".endr")])
def test_blocks_nest_100_deep_and_no_deeper(opener, closer):
    def source(n: int) -> str:
        return (".scratch a\n" + "".join(f"{opener.format(k)}\n" for k in range(n))
                + "const a, 1\n" + f"{closer}\n" * n + "halt\n")
    assert assemble_full(source(100)).kernel is not None
    result = assemble_full(source(400))
    assert [d.message for d in result.diagnostics] == [
        "blocks nested more than 100 deep (counting those of the macros and includes that "
        "lead here)"]
    assert result.diagnostics[0].location.line == 102


def test_block_nesting_counts_through_macro_calls():
    # 60 macro levels (under the call limit of 64), each opening 2 blocks.
    lines = [".scratch a", ".macro m0", "const a, 1", ".endm"]
    for k in range(1, 61):
        lines += [f".macro m{k}", ".if 1", ".if 1", f"m{k - 1}", ".endif", ".endif", ".endm"]
    result = assemble_full("\n".join([*lines, "m60", "halt", ""]))
    assert any("blocks nested more than 100 deep" in d.message for d in result.diagnostics)


def test_the_deepest_legal_source_does_not_exhaust_the_stack():
    # 63 macro calls deep, then 99 blocks, then an expression 199 levels deep.
    lines = [".scratch x", ".macro m0", *[".if 1"] * 99, "const x, " + "-" * 199 + "1",
             *[".endif"] * 99, ".endm"]
    for k in range(1, 63):
        lines += [f".macro m{k}", f"m{k - 1}", ".endm"]
    result = assemble_full("\n".join([*lines, "m62", "halt", ""]))
    assert result.kernel is not None, render_all(result.diagnostics)


@FUZZ
@given(st.lists(st.sampled_from([(".if 1", ".endif"), (".for i{} = 0, 1", ".endfor"),
                                 (".rept 1", ".endr"), (".ifndef X", ".endif")]),
                min_size=1, max_size=300))
def test_any_nesting_of_blocks_assembles_or_is_refused(blocks):
    text = ("\n".join(o.format(k) for k, (o, _) in enumerate(blocks)) + "\n.scratch a\nconst a, 1\n"
            + "\n".join(c for _, c in reversed(blocks)) + "\nhalt\n")
    with time_limit():
        result = assemble_full(text)
    assert (result.kernel is not None) == (len(blocks) <= 100)


# ---------------------------------------------------------------- 3. line breaks

BREAKS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\r"]


@FUZZ
@given(st.sampled_from([p.read_text(encoding="utf-8") for p in
                        sorted((ROOT / "programs").glob("**/*.vasm"))][:4]),
       st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(BREAKS)), min_size=1,
                max_size=3))
def test_fmt_and_the_assembler_agree_on_what_a_line_is(text, edits):
    for at, ch in edits:
        at %= len(text) + 1
        text = text[:at] + ch + text[at:]
    with time_limit():
        result = assemble_full(text, filename="b.vasm", defines={"ROUNDS": 1, "BATCH": 8})
    syntax = sorted(str(d.location) for d in result.diagnostics
                    if "unexpected" in d.message or "missing" in d.message)
    try:
        format_source(text, filename="b.vasm")
        formatted = []
    except ToolchainError as e:
        formatted = sorted(str(d.location) for d in e.diagnostics)
    assert formatted == syntax


# ---------------------------------------------------------------- 4. deep JSON

def _readers(tmp_path: Path, doc: Path) -> list[tuple]:
    return [(vemu, ["run", str(doc)]), (vasm, ["disasm", str(doc)]), (vasm, ["check", str(doc)]),
            (vasm, ["import", str(doc), "-o", str(tmp_path / "i.vasm")]),
            (vasm, ["diff", str(doc), str(doc)]),
            (vasm, ["schedule", str(doc), "-o", str(tmp_path / "s.json")])]


def test_json_nested_beyond_the_decoder_is_one_message_from_every_reader(tmp_path):
    doc = tmp_path / "deep.json"
    doc.write_text("[" * 100_000)
    for tool, args in [*_readers(tmp_path, doc),
                       (vasm, ["link", str(doc), "-o", str(tmp_path / "l.json")]),
                       (vemu, ["run", str(ROOT / "programs/takehome/fast.vasm"),
                               "--mem", str(doc)])]:
        assert "not valid JSON: nested too deeply" in run(tool, args), args


def test_valid_json_nested_deeper_than_any_image_is_refused_at_its_slot(tmp_path):
    deep: object = 0
    for _ in range(600):
        deep = [deep]
    for program in ([{"alu": [["+", 1, 2, deep]]}], [{"debug": [["compare", 1, deep]]}]):
        doc = tmp_path / "k.json"
        doc.write_text(json.dumps({"format": "vliw-kernel", "version": 1, "program": program}))
        for tool, args in _readers(tmp_path, doc):
            out = run(tool, args)
            assert "bundle 0" in out and "lists nested more than 16 deep" in out, (args, out)


@FUZZ
@given(st.sampled_from(SMALL_KERNELS).flatmap(edited), st.integers(17, 3000), st.data())
def test_nesting_at_any_depth_anywhere_loads_or_is_our_error(doc, depth, data):
    text = json.dumps(doc)
    at = data.draw(st.sampled_from([i + 1 for i, c in enumerate(text) if c in "[:,"] or [0]))
    text = text[:at] + "[" * depth + "0" + "]" * depth + text[at:]
    with time_limit(), contextlib.suppress(ToolchainError):
        loads_kernel(text, filename="k.json")
    with time_limit(), contextlib.suppress(ToolchainError):
        loads_object(text, filename="m.vo")


# ---------------------------------------------------------------- 5. huge integers

def test_a_number_too_long_for_python_is_named_where_it_stands(tmp_path):
    doc = tmp_path / "k.json"
    doc.write_text(KERNEL.replace('"+", 1', '"+",\n  ' + "7" * 5000))
    for tool, args in _readers(tmp_path, doc):
        out = run(tool, args)
        assert "k.json:2:3: error: a number too long to read (5,000 digits)" in out, (args, out)
    mem = tmp_path / "m.json"
    mem.write_text("[1, " + "9" * 4301 + "]")
    out = run(vemu, ["run", str(ROOT / "programs/takehome/fast.vasm"), "--mem", str(mem)])
    assert "m.json:1:5: a number too long to read (4,301 digits)" in out


@FUZZ
@given(st.integers(4000, 20_000), st.sampled_from(["", "-"]), st.data())
def test_long_numbers_anywhere_load_or_are_our_error(digits, sign, data):
    text = KERNEL
    at = data.draw(st.sampled_from([i + 1 for i, c in enumerate(text) if c in "[:,"]))
    text = text[:at] + sign + "1" * digits + text[at:]
    try:
        loads_kernel(text, filename="k.json")
    except ToolchainError as e:
        assert "Traceback" not in str(e)


def test_a_huge_value_in_a_message_is_shortened(tmp_path):
    mem = tmp_path / "m.json"
    mem.write_text(json.dumps([[[[[[[[0]]]]]]]] + [0] * 10))
    out = run(vemu, ["run", str(ROOT / "programs/takehome/fast.vasm"), "--mem", str(mem)])
    assert "memory word 0 is [[[[[...]]]]], not an integer" in out


# ---------------------------------------------------------------- 6. check validates first

@pytest.mark.parametrize("doc,message", [
    ([[0]], "bundle 0: a bundle is an object of engine -> slots"),
    ({"format": "vliw-kernel", "version": 1, "program": [{}], "scratch": {"1": "ab"}},
     'scratch map entry 1: expected [name, length] inside scratch, got "ab"'),
    ({"format": "vliw-kernel", "version": 1, "program": [{"alu": [["+", 1, 2, 3]]}],
      "scratch": {"x": ["a", 1]}}, 'scratch map address "x" is not an integer'),
    ({"format": "vliw-kernel", "version": 1, "program": [{}], "labels": {"a": 5}},
     'label "a" -> 5 is not a bundle index in 0..1'),
])
def test_check_refuses_what_every_other_reader_refuses(doc, message):
    assert [d.message for d in lint(doc)] == [message]
    with pytest.raises(ToolchainError, match=message.replace("[", r"\[").replace("(", r"\(")):
        loads_kernel(json.dumps(doc))


def test_check_still_reports_every_bad_slot_of_a_valid_image():
    doc = {"format": "vliw-kernel", "version": 1, "scratch": {"1": ["a", 1]},
           "program": [{"alu": [["zz"], ["+", 1, 1, 1]]}, {"load": [["const"]]}]}
    assert [d.message for d in lint(doc) if d.severity == "error"] == [
        "bundle 0, alu slot 0: unknown alu op 'zz'",
        "bundle 1, load slot 0: 'const' takes 2 operands (d, imm), got 0"]


@FUZZ
@given(st.sampled_from(SMALL_KERNELS).flatmap(edited))
def test_every_reader_takes_an_edited_image_or_reports(doc):
    with fresh_dir() as tmp_path:
        path = tmp_path / "k.json"
        path.write_text(json.dumps(doc))
        for tool, args in _readers(tmp_path, path):
            with time_limit():
                result = CliRunner().invoke(tool, args)
            _clean(result)


# ---------------------------------------------------------------- smaller ones

def test_a_5_mb_name_is_refused_before_the_lexer_sees_it(tmp_path):
    src = tmp_path / "n.vasm"
    src.write_text(".scratch " + "a" * 5_000_000 + "\nhalt\n")
    out = run(vasm, ["assemble", str(src), "-o", str(tmp_path / "o.json")])
    assert "n.vasm:1:65537: error: line too long (5,000,009 characters; at most 65,536)" in out
    assert len(out) < 2000  # the line is shown cut around the caret


def test_input_devices_that_never_end_are_refused(tmp_path):
    for tool, args in [(vasm, ["assemble", "/dev/zero", "-o", str(tmp_path / "o.json")]),
                       (vasm, ["fmt", "/dev/zero"]), (vemu, ["run", "/dev/zero"]),
                       (vasm, ["link", "/dev/zero", "-o", str(tmp_path / "o.json")]),
                       (vemu, ["run", str(ROOT / "programs/takehome/fast.vasm"),
                               "--mem", "/dev/zero"])]:
        assert "a device, not a file" in run(tool, args), args


def test_a_source_read_from_a_pipe_still_assembles(tmp_path):
    done = subprocess.run([sys.executable, "-m", "asm.cli", "assemble", "/dev/stdin", "-o",
                           str(tmp_path / "o.json")], input=".scratch a\nconst a, 1\nhalt\n",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert loads_kernel((tmp_path / "o.json").read_text()).program[0]["load"] == [("const", 0, 1)]
