"""The language, feature by feature: each test assembles a little source and
checks the exact bundles (or the exact error)."""

from __future__ import annotations

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from asm.errors import AssemblyError
from asm.kernel import Kernel
from asm.stages.assembler import assemble, assemble_full


def program(text: str, **kw) -> list[dict]:
    return assemble(text, **kw).program


def errors(text: str, **kw) -> list[str]:
    return [d.message for d in assemble_full(text, **kw).errors]


def test_single_ops_are_single_op_bundles_with_machine_names():
    assert program(".scratch a\nadd a, a, a\nvbroadcast @8, a\nmultiply_add @8, @8, @8, @8") == [
        {"alu": [("+", 0, 0, 0)]},
        {"valu": [("vbroadcast", 8, 0)]},
        {"valu": [("multiply_add", 8, 8, 8, 8)]},
    ]


def test_braces_keep_slot_order_and_engine_order_as_written():
    got = program(".scratch a, 3\n{ load a, a[1] ; add a[2], a, a ; load a[1], a }")
    assert got == [{"load": [("load", 0, 1), ("load", 1, 0)], "alu": [("+", 2, 0, 0)]}]
    assert list(got[0]) == ["load", "alu"]


def test_multiline_bundle_and_empty_engines():
    src = "{\n  vadd @0, @0, @0\n  .empty store, flow\n  load @1, @2\n}\n{ }\n{\n.empty\n}\n"
    got = program(src)
    assert got == [{"valu": [("+", 0, 0, 0)], "store": [], "flow": [], "load": [("load", 1, 2)]},
                   {"alu": []}, {}]
    assert list(got[0]) == ["valu", "store", "flow", "load"]


def test_layout_packs_in_declaration_order_around_pins_and_raw_words():
    k = assemble(".scratch a\n.scratch p @ 2\n.vector v\n.scratch b\nadd a, @1, b\n"
                 "vadd v, v, v\nadd p, p, p")
    assert k.scratch == {0: ("a", 1), 2: ("p", 1), 3: ("v", 8), 11: ("b", 1)}
    assert k.program[0] == {"alu": [("+", 0, 1, 11)]}


def test_expressions_follow_c_precedence_and_truncating_division():
    got = program(".scratch a\n.equ N, 10\nconst a, 1 + 2 * 3 << 1\nconst a, -7 / 2\n"
                  "const a, -7 % 2\nconst a, N | 1 ^ 3 & 2\nconst a, 0x10_00 + 0b11\n"
                  "const a, (3 > 2) + (2 == 2) + !0 + ~0\nconst a, VLEN * SCRATCH_SIZE")
    values = [b["load"][0][2] for b in got]
    assert values == [14, -3, -1, 10 | (1 ^ (3 & 2)), 0x1003, 2, 8 * 1536]


def test_equ_assign_and_defines():
    got = program(".scratch a\nX = 3\n.equ Y, X * 2\nconst a, X + Y + Z", defines={"Z": 100})
    assert got == [{"load": [("const", 0, 109)]}]


def test_labels_jump_targets_and_relative_jumps():
    k = assemble(".scratch c\ntop:\n  const c, 1\n  cond_jump_rel c, done\n  jump top\n"
                 "  cond_jump c, top\ndone:\n  halt\n  const c, done\n")
    assert k.program[1] == {"flow": [("cond_jump_rel", 0, 2)]}
    assert k.program[2] == {"flow": [("jump", 0)]}
    assert k.program[5] == {"load": [("const", 0, 4)]}
    assert k.labels == {"top": 0, "done": 4}


def test_macros_substitute_arguments_defaults_named_and_unique_labels():
    src = """.scratch a
.scratch b
.macro bump d, by=b
    add {d}, {d}, {by}
again{@}:
.endm
    bump a
    bump a, by=a
    bump b, a
"""
    k = assemble(src)
    assert k.program == [{"alu": [("+", 0, 0, 1)]}, {"alu": [("+", 0, 0, 0)]},
                         {"alu": [("+", 1, 1, 0)]}]
    assert set(k.labels) == {"again1", "again2", "again3"}


def test_rept_for_with_step_and_substitution_in_identifiers():
    src = """.scratch v0
.scratch v1
.scratch v2
.rept 2
    halt
.endr
.for g = 0, 3
    add v{g}, v{g}, @(10 + g)
.endfor
.for k = 6, 0, -3
    const v0, k
.endfor
"""
    got = program(src)
    assert got[:2] == [{"flow": [("halt",)]}] * 2
    assert got[2:5] == [{"alu": [("+", g, g, 10 + g)]} for g in range(3)]
    assert got[5:] == [{"load": [("const", 0, 6)]}, {"load": [("const", 0, 3)]}]


def test_conditionals_elif_else_ifdef():
    src = """.scratch a
.if MODE == 1
    const a, 1
.elif MODE == 2
    const a, 2
.else
    const a, 3
.endif
.ifdef MODE
    halt
.endif
.ifndef OTHER
    pause
.endif
"""
    for mode, value in ((1, 1), (2, 2), (7, 3)):
        assert program(src, defines={"MODE": mode}) == [
            {"load": [("const", 0, value)]}, {"flow": [("halt",)]}, {"flow": [("pause",)]}]


def test_nested_loops_in_macros():
    src = """.vector v, 2
.macro clear n
    .for i = 0, {n}
        vxor v[8*i], v[8*i], v[8*i]
    .endfor
.endm
    clear 2
"""
    assert program(src) == [{"valu": [("^", 0, 0, 0)]}, {"valu": [("^", 8, 8, 8)]}]


def test_include_searches_the_including_folder_then_I(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "defs.vasm").write_text(".scratch shared\nN = 5\n")
    (tmp_path / "main.vasm").write_text('.include "defs.vasm"\nconst shared, N\n')
    assert errors(tmp_path / "main.vasm") != []
    k = assemble(tmp_path / "main.vasm", include_paths=[str(tmp_path / "lib")])
    assert k.program == [{"load": [("const", 0, 5)]}]
    assert k.source == [f"{tmp_path / 'main.vasm'}:2"]


def test_an_include_cycle_is_an_error(tmp_path):
    (tmp_path / "a.vasm").write_text('.include "b.vasm"\nhalt\n')
    (tmp_path / "b.vasm").write_text('.include "a.vasm"\n')
    assert errors(tmp_path / "a.vasm") == ["'a.vasm' includes itself"]


def test_const_declares_a_word_and_emits_its_load():
    k = assemble(".const four, 4\nadd four, four, four")
    assert k.program == [{"load": [("const", 0, 4)]}, {"alu": [("+", 0, 0, 0)]}]
    assert k.scratch == {0: ("four", 1)}


def test_ir_keeps_global_extern_restrict_temp_and_pin():
    r = assemble_full(".global top\n.scratch p\n.scratch q\n.temp t, 2\n.restrict p, q\n"
                      "top:\n.pin\nadd t, p, q\n.endpin\nhalt")
    m = r.module
    assert r.kernel is not None
    assert set(m.globals) == {"top"}
    assert m.restricts[0][0] == ["p", "q"]
    assert m.symbols["t"].temp and m.symbols["t"].length == 2
    assert m.pins == [(0, 1)]
    assert m.bundles[0].pinned and not m.bundles[1].pinned


def test_debug_keys_and_comments():
    got = program('.vector v\ncompare v, (0, -1, "a\\"b", (2,))\n'
                  'vcompare v, [(0, 0), (0, 1), 2, 3, 4, 5, 6, "x"]\ncomment "hi # there"')
    assert got[0] == {"debug": [("compare", 0, (0, -1, 'a"b', (2,)))]}
    assert got[1]["debug"][0][2] == ((0, 0), (0, 1), 2, 3, 4, 5, 6, "x")
    assert got[2] == {"debug": [("comment", "hi # there")]}


def test_lines_using_every_loop_variable_expand_right_when_the_nest_runs_again():
    # Such lines are not kept for reuse (their values never repeat in one run
    # of the nest); a macro holding the nest runs it again with the same values.
    nest = (".macro nest\n.for r = 0, 2\n.for i = 0, 3\n"
            "compare a, (r, i, \"k\")\nadd a[i], a[r], a\n.endfor\n.endfor\n.endm\n")
    got = program(".scratch a, 4\n" + nest + "nest\nnest\n")
    once = [b for r in range(2) for i in range(3)
            for b in ({"debug": [("compare", 0, (r, i, "k"))]}, {"alu": [("+", i, r, 0)]})]
    assert got == once + once


def test_debug_keys_fold_in_loops_like_written_out():
    looped = program('.scratch a\n.equ K, 7\n.for i = 0, 2\n'
                     'compare a, (i, K, "x", (i,), -i)\ncompare a, (i,)\n.endfor')
    assert looped == [{"debug": [("compare", 0, key)]}
                      for i in range(2) for key in ((i, 7, "x", (i,), -i), (i,))]


def test_equal_bundles_are_shared_like_loaded_kernels():
    k = assemble(".scratch a\n.rept 3\n{ add a, a, a ; load a, a }\nhalt\n.endr")
    distinct, index, counts = k.distinct()
    assert len(distinct) == 2 and counts == [3, 3]


def test_a_repeated_declaration_is_an_error_inside_loops_too():
    # Repeated lines reuse their work; a declaration must still be checked each time.
    errs = errors(".rept 2\n.const four, 4\n.endr\n")
    assert errs == ["scratch symbol 'four' is declared twice"]


def test_assemble_raises_with_every_error():
    with pytest.raises(AssemblyError) as e:
        assemble(".scratch a\nadd a, a\nload a, 5\n")
    assert len(e.value.diagnostics) == 2


# Any text at all: diagnostics, never an exception.
_PIECES = ["add", "vadd", "load", "const", "jump", ".scratch", ".vector", ".macro", ".endm",
           ".for", ".endfor", ".rept", ".endr", ".if", ".else", ".endif", ".include", "a",
           "v", "{", "}", "{a}", "{@}", "@", "[", "]", "(", ")", ",", ";", ":", "=", "1",
           "-", "*", "/", "0", '"s"', "#", "\n", " ", "x:", "8", "<<", ".empty", "alu"]


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_any_text_gives_diagnostics_not_exceptions(pieces):
    text = ".scratch a\n.vector v\n" + " ".join(pieces)
    result = assemble_full(text)
    assert (result.kernel is None) == bool(result.errors)
    if result.kernel is not None:  # the assembler skips re-validation: it must not need it
        assert Kernel(result.kernel.program).program == result.kernel.program


_BODY = ["add a[g], a[g + 1], a", "vadd v, v, v", "const a, g * 3 - 1", "compare a, (g, 0, \"k\")",
         "{ add a, a, a[g] ; load a[1], a }", "twice a[g]", "load a, a", "halt"]
_PRELUDE = ".scratch a, 8\n.vector v\n.macro twice d\n    add {d}, {d}, {d}\n.endm\n"


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(st.sampled_from(_BODY), min_size=1, max_size=6), st.integers(0, 4),
       st.integers(1, 3))
def test_loops_assemble_like_their_unrolled_text(body, n, copies):
    looped = _PRELUDE + (f".for g = 0, {n}\n" + "\n".join(body) + "\n.endfor\n") * copies
    unrolled = _PRELUDE + "".join(
        "".join(line.replace("g", str(g)) + "\n" for line in body)
        for _ in range(copies) for g in range(n))
    assert program(looped) == program(unrolled)


def test_runaway_loop_counts_stop_with_an_error(monkeypatch):
    from asm.stages.assembler import assemble_full
    from asm.stages.expand import model as expansion
    monkeypatch.setattr(expansion, "MAX_ITERATIONS", 1000)
    monkeypatch.setattr(expansion, "MAX_ITEMS", 500)
    text = ".rept 100000000\n.endr\n.for i = 0, 1 << 40\n    add @1, @1, @1\n.endfor\n"
    r = assemble_full(text, filename="big.vasm")
    messages = [str(d.location) + " " + d.message for d in r.errors]
    # one report, then the expansion stops (the .for never runs)
    assert len(messages) == 1
    assert messages[0].startswith("big.vasm:1:7 the expansion is too large")


def test_leading_zeros_are_decimal():
    from asm.stages.assembler import assemble
    k = assemble("const @1, 010\nconst @2, 0_9\n", filename="z.vasm")
    assert [b["load"][0][2] for b in k.program] == [10, 9]


def test_a_macro_calling_itself_twice_stops_early(monkeypatch):
    # Found by tests/test_fuzz.py: the depth limit alone allows 2**64 calls.
    from asm.stages.assembler import assemble_full
    from asm.stages.expand import model as expansion
    monkeypatch.setattr(expansion, "MAX_CALLS", 2000)
    # Not recursive, but each macro calls the next twice: 2**20 calls, 20 deep.
    text = "".join(f".macro m{k}\n    m{k + 1}\n    m{k + 1}\n.endm\n" for k in range(20))
    text = ".macro m20\n    halt\n.endm\n" + text + "    m0\n"
    r = assemble_full(text, filename="wide.vasm")
    assert [d.message.split(":")[0] for d in r.errors] == ["more than 2,000 macro calls"]
    # Recursive: stops at the first call nested too deep, with one report.
    text = ".macro m\n    m\n    m\n.endm\n    m\n"
    r = assemble_full(text, filename="rec.vasm")
    assert [d.message for d in r.errors] == [
        "macro calls nested more than 64 deep (does 'm' call itself?)"]


def test_too_many_statements_stop_at_the_outermost_loop_once(monkeypatch):
    from asm.stages.assembler import assemble_full
    from asm.stages.expand import model as expansion
    monkeypatch.setattr(expansion, "MAX_ITEMS", 300)
    text = ".for r = 0, 10\n    .for i = 0, 100\n        const @1, i\n    .endfor\n.endfor\n"
    r = assemble_full(text, filename="big.vasm")
    assert [f"{d.location} {d.message}" for d in r.diagnostics] == [
        "big.vasm:1:6 the expansion is too large (over 300 statements or 20,000,000 loop "
        "iterations): is this count right?"]
    flat = "const @1, 1\n" * 400  # no loop: the line where the limit is passed
    r = assemble_full(flat, filename="flat.vasm")
    assert [f"{d.location} {d.message}" for d in r.diagnostics] == [
        "flat.vasm:301 the expansion is too large (over 300 statements)"]


def _peak_rss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_an_empty_loop_spends_its_count_at_once():
    # (20 million iterations of nothing took 13 s one at a time) The error
    # stands where a loop of statements would put it: the outermost count.
    from asm.stages.assembler import assemble_full
    for text in (".rept 30000000\n.endr\n", ".rept 3\n  .rept 10000000\n  .endr\n.endr\n",
                 ".for i = 0, 60000000, 2\n.endfor\n"):
        [e] = assemble_full(text, filename="k.vasm").errors
        assert (e.location.line, e.location.col) == (1, 7 if text[1] == "r" else 6)
        assert e.message.startswith("the expansion is too large")
    for text in (".rept 6000000\n.endr\nhalt\n", ".for i = 5, 0, -1\n.endfor\nhalt\n"):
        assert not assemble_full(text).errors


@pytest.mark.slow
def test_real_limits_stop_runaway_loops_quickly_and_in_bounded_memory():
    # The limits as shipped, not lowered for the test: the loop that would
    # make 100 million distinct statements stops at the 2 million limit.
    import time

    from asm.stages.assembler import assemble_full
    start, before = time.perf_counter(), _peak_rss_mb()
    for text in (".rept 1000000000\n.endr\n",
                 ".scratch x\n.for i = 0, 100000000\n    const x, i\n.endfor\n"):
        r = assemble_full(text, filename="big.vasm")
        assert [d.message.split(":")[0] for d in r.errors] == [
            "the expansion is too large (over 2,000,000 statements or 20,000,000 loop "
            "iterations)"]
    assert time.perf_counter() - start < 120
    assert _peak_rss_mb() - before < 2500
