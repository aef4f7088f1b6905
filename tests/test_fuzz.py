"""Front doors under mutated input: every outcome is a result or our own
diagnostic, never a Python exception. A fixed budget in CI; for a longer run:
    FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz.py"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asm.assembler import assemble_full, assemble_module
from asm.diagnostics import render_all
from asm.errors import ToolchainError
from asm.fmt import format_source
from asm.kernel import loads_kernel

ROOT = Path(__file__).parent.parent
SEEDS = sorted([*ROOT.glob("tests/diagnostics/*.vasm"), *ROOT.glob("tests/data/*.vasm"),
                *ROOT.glob("tests/link/*/*.vasm"), ROOT / "tests/editors/sample.vasm",
                ROOT / "programs/takehome/baseline.vasm"])
TEXTS = [p.read_text(encoding="utf-8") for p in SEEDS]
PIECES = ["{", "}", ";", ",", "(", ")", "[", "]", "@", "#", '"', "\\", "\\x", ".macro m a",
          ".endm", ".rept 3", ".endr", ".for i = 0, 3", ".endfor", ".if 1", ".else", ".endif",
          "{x}", "{@}", "x:", "\n", " ", "0x", "-", "<<", "99999999999999999999", "=", "!",
          ".include \"nope.vasm\"", ".const c, 5", ".global g", ".extern e", ".pin", ".endpin",
          "vadd", "load_offset", "jump", "cond_jump_rel", "vcompare"]


@st.composite
def mutated(draw) -> str:
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(text)))
        kind = draw(st.integers(0, 2))
        if kind == 0:
            text = text[:i] + draw(st.sampled_from(PIECES)) + text[i:]
        elif kind == 1:
            text = text[:i] + text[i + draw(st.integers(1, 12)):]
        else:
            j = draw(st.integers(0, len(text)))
            text = text[:i] + text[j:j + draw(st.integers(1, 40))] + text[i:]
    return text


FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(mutated())
def test_assembler_gives_a_kernel_or_diagnostics(text):
    defines = {"ROUNDS": 1, "BATCH": 4}
    for run in (assemble_full, assemble_module):
        result = run(text, filename="fuzz.vasm", defines=defines)
        rendered = render_all(result.diagnostics, result.sources)
        if getattr(result, "kernel", None) is None and result.module is None:
            assert result.errors and "error" in rendered


@FUZZ
@given(mutated())
def test_formatter_is_idempotent_or_reports(text):
    try:
        once = format_source(text, filename="fuzz.vasm")
    except ToolchainError:
        return
    assert format_source(once, filename="fuzz.vasm") == once


@FUZZ
@given(st.sampled_from(["[]", '{"format": "vliw-kernel", "version": 1, "program": []}',
                        '[{"alu": [["+", 0, 1, 2]]}, {"flow": [["jump", 0]]}]']),
       st.lists(st.tuples(st.integers(0, 200), st.sampled_from(
           ['"', "[", "]", "{", "}", "0", "-1", ",", ":", "x", "null", "1e9", "99999999999",
            '"alu"', '"+"', "[[", "]]", ""])), min_size=1, max_size=4))
def test_kernel_reader_gives_a_kernel_or_our_error(base, edits):
    text = base
    for at, piece in edits:
        at = min(at, len(text))
        text = text[:at] + piece + text[at:]
    with contextlib.suppress(ToolchainError):  # anything else fails the test
        loads_kernel(text, filename="k.json")
