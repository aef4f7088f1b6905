"""A Reuse kept from one assembly to the next changes nothing in what the
assembler produces (kernel, diagnostics), only how much work it redoes."""

from __future__ import annotations

from pathlib import Path

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from asm.diagnostics import render_all
from asm.kernel import dumps_kernel
from asm.stages.assembler import assemble_full
from asm.stages.reuse import Reuse

ROOT = Path(__file__).parent.parent
PROGRAMS = sorted((ROOT / "programs").rglob("*.vasm"))


def outcome(source, reuse: Reuse | None = None, **options) -> tuple[str | None, str]:
    """What a user sees: the kernel image and the diagnostics as printed."""
    a = assemble_full(source, reuse=reuse, **options)
    kernel = dumps_kernel(a.kernel) if a.kernel is not None else None
    return kernel, render_all(a.diagnostics, a.sources) if a.diagnostics else ""


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_programs_assemble_the_same_with_a_kept_reuse(path):
    reuse = Reuse()
    fresh = outcome(path)
    assert outcome(path, reuse) == fresh
    assert outcome(path, reuse) == fresh  # and again, everything reused


def test_a_kept_reuse_does_work_once():
    reuse = Reuse()
    fast = ROOT / "programs" / "takehome" / "fast.vasm"
    assemble_full(fast, reuse=reuse)
    sizes = {name: len(getattr(reuse, name)) for name in ("parsed", "bodies", "plans")}
    assert all(sizes.values())
    assemble_full(fast, reuse=reuse)
    assert {name: len(getattr(reuse, name)) for name in sizes} == sizes


# Versions of one file as an editor sends them while it is edited: a macro
# appears, changes, disappears; names change meaning; lines move.
MACRO = """.macro {name} dst, src
    add {{dst}}, {{dst}}, {{src}}
    {extra}
.endm
"""
LINES = ["    .rept 3\n    {call} a, b\n    .endr\n", "    {call} b, a\n",
         "    const a, {n}\n", "N = {n}\n    const b, N\n", "    add a, a, a\n",
         "    .for i = 0, 2\n    {call} a, b\n    add a, a, i\n    .endfor\n",
         "    bump a, b\n", "    {{ add a, a, b\n    sub b, b, a }}\n", "    nonsense here\n",
         "    {call} a, (a, b)\n"]


@st.composite
def versions(draw) -> list[str]:
    out = []
    for _ in range(draw(st.integers(2, 5))):
        text = ".scratch a\n.scratch b\n"
        if draw(st.booleans()):
            text += MACRO.format(name=draw(st.sampled_from(["bump", "add2", "sub"])),
                                 extra=draw(st.sampled_from(["", "sub {src}, {src}, {dst}",
                                                             "const {dst}, 1",
                                                             "add {dst}, {dst}, a[{src}]"])))
        for line in draw(st.lists(st.sampled_from(LINES), max_size=6)):
            text += line.format(call=draw(st.sampled_from(["bump", "add2", "add"])),
                                n=draw(st.integers(0, 3)))
        out.append(text)
    return out


@settings(max_examples=examples(80), deadline=None)
@given(versions())
def test_edits_with_a_kept_reuse_give_what_a_fresh_assembly_gives(texts):
    reuse = Reuse()
    for text in texts:
        assert outcome(text, reuse, filename="k.vasm") == outcome(text, filename="k.vasm")


def test_a_syntax_error_made_by_substitution_is_reported_by_every_assembly():
    # `v[{a}]` with a = `(x, x)` only goes wrong once substituted; a kept Reuse
    # once remembered the line as nothing and the second assembly passed.
    text = ".scratch x\n.scratch v, 4\n.macro m a\n    add x, x, v[{a}]\n.endm\n    m (x, x)\n"
    reuse = Reuse()
    first = outcome(text, reuse, filename="k.vasm")
    assert first[0] is None and "unexpected ','" in first[1]
    assert outcome(text, reuse, filename="k.vasm") == first
    loop = text.replace("    m (x, x)\n", ".rept 2\n    m (x, x)\n.endr\n")
    assert outcome(loop, reuse, filename="k.vasm") == outcome(loop, filename="k.vasm")


def test_a_line_that_becomes_a_macro_call_is_expanded_again():
    # The call stays where it was (same line, same text): only the macro is new.
    reuse = Reuse()
    before = ".scratch a\n#\n#\n#\n.rept 2\n    bump a\n.endr\n"
    kernel, errors = outcome(before, reuse, filename="k.vasm")
    assert kernel is None and "unknown op 'bump'" in errors
    after = ".scratch a\n.macro bump x\n    add {x}, {x}, {x}\n.endm\n.rept 2\n    bump a\n.endr\n"
    assert outcome(after, reuse, filename="k.vasm") == outcome(after, filename="k.vasm")
    assert outcome(after, reuse, filename="k.vasm")[0] is not None


def test_trim_keeps_memory_bounded(monkeypatch):
    from asm.stages import reuse as module
    monkeypatch.setattr(module, "MAX_ENTRIES", 10)
    reuse = Reuse()
    vector = ROOT / "programs" / "takehome" / "vector.vasm"
    fresh = outcome(vector)
    assert outcome(vector, reuse) == fresh
    reuse.trim()
    assert not reuse.plans and not reuse.idents
    assert outcome(vector, reuse) == fresh


# Loop bodies whose debug keys name the loop variables: expansion fills them
# into one template per line (asm/stages/expand/plan.py) and replays whole
# iterations (replay.py). Lines that go wrong (a name that is no number, a
# tuple where a word belongs), lines that define, and macros numbering their
# expansions ({@}) are among them.
HEAD = """.scratch v
.scratch w, 4
X = 0
.macro m a
    compare v, (r, i, {a})
    add v, v, w[{a} % 4]
.endm
.macro u
    add v, v, w[{@} % 4]
.endm
"""
BODY = ['compare v, (r, i, "k")', "compare v, (i, r)", "compare w[i], (r, i)",
        "compare v, (r, i, nothing)", "add v, v, (r, i)", "compare v, (r, 5)",
        "X = i * 2 + r", "compare v, (r, i, X)", "{ compare v, (r, i) }", "add v, v, w[i]",
        'compare w[X % 4], ("x", i, r)', "compare v, (r, r, i, i)", "m 1", "m i", "m X", "u",
        ".rept 2\n    compare v, (r, i)\n.endr"]
OUTER = ["", "X = r * 3", "compare v, (r, 7)", "m r",
         # m defined anew in every round, differently in odd ones (no {a}:
         # that would have the round's body substituted, its lines new)
         ".if r % 2\n.macro m a\n    compare v, (i, 9)\n.endm\n.else\n.macro m a\n"
         "    compare v, (r, i, 8)\n    add v, v, w[1]\n.endm\n.endif"]
TAIL = ["", "u", "compare v, (X, 1)"]


@st.composite
def keyed_loops(draw) -> tuple[str, str]:
    """(a program with loops, the same program with its loops written out:
    each iteration sets the loop variables as names of its own)."""
    body = draw(st.lists(st.sampled_from(BODY), min_size=1, max_size=6))
    outer, tail = draw(st.sampled_from(OUTER)), draw(st.sampled_from(TAIL))
    rounds, width = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    nested = draw(st.booleans())
    inner = f".for i = 0, {width}\n" + "".join(f"{b}\n" for b in body) + ".endfor\n"
    if nested:
        looped = f".for r = 0, {rounds}\n{outer}\n{inner}.endfor\n"
    else:
        looped = f"r = {rounds}\n{inner}"
    written = "" if nested else f"r = {rounds}\n"
    for r in range(rounds) if nested else [rounds]:
        if nested:
            written += f"r = {r}\n{outer}\n"
        for i in range(width):
            written += f"i = {i}\n" + "".join(f"{b}\n" for b in body)
    return HEAD + looped + tail + "\n", HEAD + written + tail + "\n"


def _seen(source: str) -> tuple[list | None, set[str]]:
    """The program and the messages (without places: the written-out lines are others)."""
    a = assemble_full(source, filename="k.vasm")
    return (a.kernel.program if a.kernel is not None else None,
            {d.message for d in a.diagnostics})


@settings(max_examples=examples(150), deadline=None)
@given(keyed_loops())
def test_filled_and_replayed_loops_give_what_the_written_out_loops_give(programs):
    looped, written = programs
    assert _seen(looped) == _seen(written)


def test_a_loop_of_plain_lines_is_replayed():
    """The iterations after the first take their items from the recording
    (the figure that makes baseline.vasm fast): counted by the lines run."""
    from asm.source import Sources
    from asm.stages.expand import Expander, file_lines

    text = HEAD + ".for r = 0, 4\n.for i = 0, 8\nm 1\ncompare v, (r, i)\nadd v, v, w[i]\n" \
        ".endfor\n.endfor\n"
    ex = Expander(Sources())
    runs = 0
    run = ex.run

    def counted(lines):
        nonlocal runs
        runs += 1
        run(lines)

    ex.run = counted
    ex.run(file_lines(text, "k.vasm", (), []))
    # The file; the outer body in each of its 4 rounds (it holds a loop, so it
    # is not replayed); the inner body 8 times in the first round only (i
    # differs), and the macro's body with it; nothing more in later rounds.
    assert runs == 1 + 4 + 8 + 8
    assert len([it for it in ex.out.items if it.kind == "stmt"]) == 2 + 4 * 8 * 4  # (.scratch)


def test_a_macro_defined_again_between_runs_of_a_loop_is_not_replayed_as_it_was():
    # Defining m again leaves the number of macros as it was: the recording
    # must know the definitions changed (a version, not a count).
    outer = OUTER[-1]
    body = "m 1\nadd v, v, w[i]\n"
    looped = HEAD + f".for r = 0, 3\n{outer}\n.for i = 0, 2\n{body}.endfor\n.endfor\n"
    written = HEAD + "".join(f"r = {r}\n{outer}\n" + "".join(f"i = {i}\n{body}" for i in range(2))
                             for r in range(3))
    assert _seen(looped) == _seen(written)
    assert len(_seen(looped)[0]) == 16


def test_a_macro_call_whose_macro_is_gone_in_the_next_version_is_an_unknown_op():
    # The call's line stays where it was (same text, same place): its plan,
    # kept in the Reuse, must not call a macro the new version lacks.
    reuse = Reuse()
    with_macro = ".scratch a\n.macro bump x\n    add {x}, {x}, {x}\n.endm\n.rept 2\n    bump a\n.endr\n"
    without = ".scratch a\n#\n#\n#\n.rept 2\n    bump a\n.endr\n"
    assert outcome(with_macro, reuse, filename="k.vasm")[0] is not None
    kernel, errors = outcome(without, reuse, filename="k.vasm")
    assert kernel is None and "unknown op 'bump'" in errors
    assert (kernel, errors) == outcome(without, filename="k.vasm")


def test_an_iteration_with_a_line_not_filled_in_is_not_replayed(monkeypatch):
    # Past MAX_PLANS templates a line is expanded as it is, its key in its
    # items: replaying that iteration in the next round would keep the round.
    import asm.stages.expand as expand_module
    monkeypatch.setattr(expand_module, "MAX_PLANS", 2)
    body = "compare w[i], (r, i)\nadd v, v, w[i]\n"
    looped = HEAD + f".for r = 0, 3\n.for i = 0, 4\n{body}.endfor\n.endfor\n"
    written = HEAD + "".join(f"r = {r}\ni = {i}\n{body}" for r in range(3) for i in range(4))
    assert _seen(looped) == _seen(written)


def test_a_loop_body_met_under_other_loops_is_replayed_by_what_it_depends_on_there():
    # A key naming only i is filled in where i is the only loop variable, and
    # kept by i's value inside a loop over r too: the same body's recording
    # must not carry the first case's names into the second.
    head = HEAD + ".macro each\n.for i = 0, 3\n    compare v, (i, 5)\n    add v, v, v\n" \
        ".endfor\n.endm\n"
    looped = head + "each\n.for r = 0, 2\n    each\n.endfor\n"
    body = "compare v, (i, 5)\nadd v, v, v\n"
    written = head + "".join(f"i = {i}\n{body}" for i in range(3)) \
        + "".join(f"r = {r}\n" + "".join(f"i = {i}\n{body}" for i in range(3)) for r in range(2))
    assert _seen(looped) == _seen(written)


def test_blocks_are_found_once_in_a_loop_and_never_kept_for_lines_made_for_one_run():
    """A loop body's conditionals are found (their .endif) once, not every
    iteration; lines made for one iteration (a .for whose variable is
    substituted as text) keep nothing, however many iterations run."""
    from asm.source import Sources
    from asm.stages.expand import Expander, file_lines

    def expanded(text: str) -> Expander:
        ex = Expander(Sources())
        found = ex._find_end
        ex.scans = 0

        def counted(lines, i):
            ex.scans += 1
            return found(lines, i)

        ex._find_end = counted
        ex.run(file_lines(text, "k.vasm", (), []))
        assert not ex.out.diagnostics
        return ex

    body = ".if i % 2\nconst w, i\n.else\nconst w, 1\n.endif\n"
    looped = expanded(".scratch w\n.for i = 0, 200\n" + body + ".endfor\n")
    assert looped.scans == 2  # the loop and its conditional
    textual = expanded(".scratch w\n.for i = 0, 200\n" + body.replace("i %", "{i} %")
                       + ".endfor\n")
    assert textual.scans == 1 + 200  # the conditional of every iteration's own lines
    assert len(textual.block_ends) + len(textual.block_parts) <= 2  # (the loop's own)
