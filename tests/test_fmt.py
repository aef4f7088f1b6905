"""`vasm fmt`: canonical layout, comments and structure kept, meaning unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from asm.errors import AssemblyError
from asm.stages.assembler import assemble_full
from asm.views.fmt import format_source

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"
REPO_SOURCES = sorted(p for p in ROOT.rglob("*.vasm")
                      if not any(part.startswith(".") for part in p.relative_to(ROOT).parts))


def test_golden_layout():
    got = format_source((DATA / "fmt_input.vasm").read_text())
    assert got == (DATA / "fmt_expected.vasm").read_text()


def test_comments_are_kept():
    src = (DATA / "fmt_input.vasm").read_text()
    out = format_source(src)
    for line in src.splitlines():
        if "#" in line:
            assert line[line.index("#"):].rstrip() in out


@pytest.mark.parametrize("path", REPO_SOURCES, ids=[str(p.relative_to(ROOT)) for p in REPO_SOURCES])
def test_idempotent_on_every_source_in_the_repository(path):
    try:
        once = format_source(path.read_text())
    except AssemblyError:
        pytest.skip("a deliberately bad input (diagnostics tests)")
    assert format_source(once) == once


@pytest.mark.parametrize("path", REPO_SOURCES, ids=[str(p.relative_to(ROOT)) for p in REPO_SOURCES])
def test_formatting_does_not_change_what_assembles(path):
    text = path.read_text()
    try:
        formatted = format_source(text)
    except AssemblyError:
        pytest.skip("a deliberately bad input (diagnostics tests)")
    before = assemble_full(text, filename=str(path))
    after = assemble_full(formatted, filename=str(path))
    if before.kernel is None:
        assert after.kernel is None
    else:
        assert after.kernel is not None and after.kernel.program == before.kernel.program


def test_repository_programs_are_formatted():
    for path in ROOT.glob("programs/**/*.vasm"):
        assert format_source(path.read_text()) == path.read_text(), path


_WORDS = ["add a, a, a", "{", "}", "x:", ".for i = 0, 2", ".endfor", "vadd v[8*i],v,v",
          "# note", "", "load a,@(1+2)", "{ halt ; pause }", ".macro m d", "add {d},{d},a",
          ".endm", "m a", ".if 1", ".else", ".endif", "const a , -5"]


@settings(deadline=None, max_examples=examples(150))
@given(st.lists(st.sampled_from(_WORDS), max_size=25), st.sampled_from(["", "  ", "\t"]))
def test_idempotent_and_meaning_preserving_on_random_sources(lines, indent):
    text = ".scratch a\n.vector v, 2\n" + "\n".join(indent + w for w in lines) + "\n"
    once = format_source(text)
    assert format_source(once) == once
    a, b = assemble_full(text), assemble_full(once)
    assert (a.kernel is None) == (b.kernel is None)
    if a.kernel is not None:
        assert a.kernel.program == b.kernel.program


def test_fmt_check_diff_prints_a_unified_diff_and_writes_nothing(tmp_path):
    from click.testing import CliRunner

    from asm.cli import main as vasm
    src = tmp_path / "k.vasm"
    text = ".scratch a\nstart:\nconst a,1\n"
    src.write_text(text)
    r = CliRunner().invoke(vasm, ["fmt", "--check", "--diff", str(src)])
    assert r.exit_code == 1
    assert "-const a,1\n+    const         a, 1\n" in r.stdout
    assert r.stdout.splitlines()[0] == f"--- {src}"
    assert f"{src}: not formatted" in r.stderr
    assert src.read_text() == text
    src.write_text(".scratch a\nstart:\n    const         a, 1\n")
    r = CliRunner().invoke(vasm, ["fmt", "--check", "--diff", str(src)])
    assert r.exit_code == 0 and r.output == ""
