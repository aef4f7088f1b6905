"""Lane splitting (asm/sched/split.py): a vector ALU op run as 8 scalar ALU
ops computes the same, and the scheduler with splitting never loses to the
scheduler without."""

from __future__ import annotations

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import bundles, memories, structured_programs
from test_schedule import outcome, within_limits

from asm import isa, schedule
from asm.errors import KernelError
from asm.kernel import Kernel
from asm.sched.schedule import report, schedule_kernel
from asm.sched.split import _movable, lane_steps, lanes_of, needs_temp, split_lanes, split_slots

# Mostly ALU work on both engines, with some memory traffic and a prologue of
# small constants, so that blocks are often vector-ALU-bound.
_ALU_OPS = [op for op in isa.OPS if op.engine in ("alu", "valu")]
_OTHER_OPS = [op for op in isa.OPS if op.engine in ("load", "store")]


@st.composite
def alu_programs(draw, max_bundles: int = 16):
    n = draw(st.integers(1, max_bundles))
    prologue = [{"load": [("const", d, draw(st.integers(0, 40)))]} for d in range(0, 8)]
    body = []
    for _ in range(n):
        ops = _ALU_OPS if draw(st.integers(0, 4)) else _OTHER_OPS
        body.append(draw(bundles(n + len(prologue), max_slots=4, ops=ops)))
    return prologue + body


def test_every_lane_form_names_alu_ops_of_its_operands():
    for op in isa.OPS:
        if op.lanes_as is None:
            continue
        assert op.engine == "valu" and op.meaning.lanes == isa.VLEN
        for name, *args in op.lanes_as:
            alu = isa.BY_MACHINE[("alu", name)]
            assert alu.arity == len(args)
            assert set(args) <= {o.name for o in op.operands} | {"t"}


def test_lanes_of_a_binary_op_and_a_broadcast():
    vadd = isa.BY_MACHINE[("valu", "+")]
    assert lanes_of(vadd, ("+", 16, 32, 48))[3] == ("+", 19, 35, 51)
    broadcast = isa.BY_MACHINE[("valu", "vbroadcast")]
    assert lanes_of(broadcast, ("vbroadcast", 16, 5)) == [("|", 16 + i, 5, 5) for i in range(8)]
    fma = isa.BY_MACHINE[("valu", "multiply_add")]
    mul, add = lane_steps(fma, ("multiply_add", 16, 32, 48, 64))
    assert (mul[2], add[2]) == (("*", 18, 34, 50), ("+", 18, 18, 66))  # the product in d
    assert lane_steps(fma, ("multiply_add", 16, 32, 48, 20)) is None  # d overlaps c: a temp
    mul, add = lane_steps(fma, ("multiply_add", 16, 32, 48, 16), list(range(100, 108)))
    assert (mul[2], add[2]) == (("*", 102, 34, 50), ("+", 18, 102, 18))


@settings(deadline=None, max_examples=examples(60))
@given(alu_programs(), memories())
def test_split_program_computes_the_same_as_written(program, mem):
    """Before any scheduling: the split program itself gives the same memory
    and trace buffer (in the same cycles, unless a multiply_add's second step
    added a bundle), within every slot limit."""
    k = Kernel(program)
    before, cycles = outcome(k, mem)
    split, moved = split_lanes(k)
    after, cycles_after = outcome(split, mem)
    assert after == before
    if len(split.program) == len(k.program):
        assert cycles_after == cycles
    assert within_limits(split.program)
    assert moved.after.get("valu", 0) == moved.before.get("valu", 0) - moved.moved


@settings(deadline=None, max_examples=examples(40))
@given(alu_programs(), memories(), st.sampled_from([1, 2]))
def test_splitting_keeps_results_and_never_costs_cycles(program, mem, level):
    k = Kernel(program)
    before, cycles_before = outcome(k, mem)
    if before[0] == "fault":
        return
    plain = schedule_kernel(k, level=level, split=False)
    split = schedule_kernel(k, level=level, split=True)
    after, cycles_after = outcome(split.kernel, mem)
    assert after == before
    assert cycles_after <= outcome(plain.kernel, mem)[1] <= cycles_before
    assert within_limits(split.kernel.program)


def test_a_vector_bound_block_moves_work_to_the_scalar_alu():
    # 24 independent vector adds fill the vector ALU for 4 cycles, and moving
    # any would not bring that to 3; 30 need 5, or 4 with 6 of them as 48
    # scalar adds (24 vector ops and 48 scalar ones: 4 cycles each).
    src = ".vector v, 24\n" + "".join(f"    vadd v[{8 * i}], v[{8 * i}], v[{8 * i}]\n"
                                      for i in range(24))
    plain = schedule(src, level=2, split=False)
    split = schedule(src, level=2)
    assert (plain.after, split.after, split.split) == (4, 4, None)
    src += "".join(f"    vadd v[{8 * i}], v[{8 * i}], v[{8 * i}]\n" for i in range(6))
    plain = schedule(src, level=2, split=False)
    split = schedule(src, level=2)
    assert plain.after == 5 and split.after == 4
    assert split.split.moved == 6
    assert "lane splitting: 6 vector ops run lane by lane on the scalar ALU (alu 0 -> 48 " \
        "ops, valu 30 -> 24)" in report(split)
    assert schedule(src, level=1).after == 4  # every level splits
    assert schedule(src, level=1, split=False).split is None


def test_diff_shows_a_split_op_as_its_lanes():
    from asm.stages.assembler import assemble
    from asm.views.diff import diff_kernels
    src = ".vector v, 30\n" + "".join(f"    vadd v[{8 * i}], v[{8 * i}], v[{8 * i}]\n"
                                      for i in range(30))
    before = assemble(src)
    after = schedule(before, level=2).kernel
    text, changed = diff_kernels(before, after)
    assert changed
    splits = [ln for ln in text.splitlines() if "# split into 8 scalar lanes" in ln]
    lanes = [ln for ln in text.splitlines() if "# lane " in ln]
    assert len(splits) == 6 and len(lanes) == 48
    assert splits[0].startswith("<    vadd")
    assert any(ln.startswith(">    add           v[17], v[17], v[17]    # lane 1 of "
                             "'vadd v[16], v[16], v[16]' (bundle 2)") for ln in lanes)


@settings(deadline=None, max_examples=examples(80))
@given(st.one_of(alu_programs(), structured_programs()), memories())
def test_every_movable_op_split_computes_the_same(program, mem):
    """Every op that may run as lanes, split (multiply_adds too, with their
    second steps in new bundles and the jumps moved to match): same memory and
    trace buffer."""
    k = Kernel(program)
    before, _ = outcome(k, mem)
    chosen = {pc: {i for i in range(len(b.get("valu", ()))) if _movable(b, i)}
              for pc, b in enumerate(k.program)}
    # (as the scheduler does: only where the alu has room)
    chosen = {pc: set(sorted(ks)[:(12 - len(k.program[pc].get("alu", ()))) // 8])
              for pc, ks in chosen.items()}
    chosen = {pc: ks for pc, ks in chosen.items() if ks}
    split = split_slots(k, chosen)
    after = outcome(split, mem)[0]
    if before[0] == "fault":
        # Still a fault, though maybe another slot's: a lane that ran ahead on
        # the alu faults before the vector ops left in the bundle (found by
        # the deep profile: a split `%` dividing by 0 before a `//` did).
        assert after[0] == "fault"
    else:
        assert after == before
    assert within_limits(split.program)


def test_a_multiply_add_whose_destination_is_its_addend_uses_free_words():
    src = ".vector a\n.vector b\n.vector c\n" + "    vmuladd c, a, b, c\n" * 3
    from asm.stages.assembler import assemble
    k = assemble(src)
    split = split_slots(k, {0: {0}, 1: {0}})
    assert len(split.program) == 5  # two second steps added
    assert any(name.startswith("lane.t") for name, _ in split.scratch.values())
    op = isa.BY_MACHINE[("valu", "multiply_add")]
    assert needs_temp(op, k.program[0]["valu"][0])


def test_a_scratch_map_claiming_words_past_the_end_is_refused():
    """(A map entry of 2**32 words once made the free-word search build a set
    of them all; now no Kernel holds one.)"""
    with pytest.raises(KernelError, match="past the end of scratch"):
        Kernel([{"valu": [("+", 0, 0, 0)]}] * 7, {16: ("huge", 2**32)}, validate=False)
    k = Kernel([{"valu": [("+", 0, 0, 0)]}] * 7, {16: ("big", 1520)}, validate=False)
    from asm.sched.rename import free_words
    assert free_words(k) == list(range(8, 16))
    assert schedule_kernel(k, rename_words="all").after <= 7


# ------------------------------------------------------------ lane merging

_LANE_OPS = [op.name for op in isa.OPS if op.engine == "valu" and op.lanes_as is not None
             and op.lanes_as == ((op.name, "d", "a", "b"),)]


@st.composite
def lane_programs(draw):
    """Scalar-ALU-heavy programs with groups of 8 hand-written lanes, in runs
    of bundles (as `.for lane` loops assemble) or all in one bundle, in any
    lane order, operands that may overlap the destination (some groups then
    cannot merge), and scalar work in between."""
    program = [{"load": [("const", d, draw(st.integers(0, 40)))]} for d in range(0, 8)]
    program += [{"valu": [("vbroadcast", 8 * v, v)]} for v in range(1, 6)]
    for _ in range(draw(st.integers(1, 6))):
        name = draw(st.sampled_from(_LANE_OPS))
        d, a, b = (8 * draw(st.integers(1, 5)) + draw(st.sampled_from([0, 0, 0, 1, 3]))
                   for _ in range(3))
        lanes = [(name, d + i, a + i, b + i) for i in draw(st.permutations(range(8)))]
        if draw(st.booleans()):
            program.append({"alu": lanes})
        else:
            program += [{"alu": [lane]} for lane in lanes]
        if draw(st.booleans()):
            program.append({"alu": [("+", draw(st.integers(8, 47)), 1, 2)]})
    program.append({"load": [("const", 0, 0)]})
    program.append({"store": [("vstore", 0, 8)]})
    program.append({"store": [("vstore", 0, 40)]})
    return program


def _merge_all(k: Kernel) -> Kernel:
    from asm.sched.split import SplitReport, _merge, lane_groups
    groups = lane_groups(k.program, 0, len(k.program))
    return _merge(k, groups, SplitReport()) if groups else k


@settings(deadline=None, max_examples=examples(50))
@given(lane_programs(), memories())
def test_every_mergeable_lane_group_merged_computes_the_same(program, mem):
    k = Kernel(program)
    before, cycles = outcome(k, mem)
    if before[0] == "fault":
        return  # which lane's division by zero is named first may change
    merged = _merge_all(k)
    after, cycles_after = outcome(merged, mem)
    assert after == before and cycles_after <= cycles
    assert within_limits(merged.program)


@settings(deadline=None, max_examples=examples(25))
@given(lane_programs(), memories(), st.sampled_from([1, 2]))
def test_merging_keeps_results_and_never_costs_cycles(program, mem, level):
    k = Kernel(program)
    before, _ = outcome(k, mem)
    if before[0] == "fault":
        return  # a faulting program has no result to keep
    plain = schedule_kernel(k, level=level, split=False)
    both = schedule_kernel(k, level=level)
    after, cycles = outcome(both.kernel, mem)
    assert after == before and cycles <= plain.after
    assert within_limits(both.kernel.program)


def test_lanes_that_read_an_earlier_lane_stay_scalar():
    from asm.sched.split import lane_groups
    # lane i + 1 reads what lane i wrote (d = a + 1): in order, not at once
    chained = [{"alu": [("+", 17 + i, 16 + i, 40 + i)]} for i in range(8)]
    assert lane_groups(chained, 0, 8) == []
    # the same lanes in one bundle read before any writes: a vector op
    assert [g.vector for g in lane_groups([{"alu": [s for b in chained for s in b["alu"]]}],
                                          0, 1)] == [("+", 17, 16, 40)]
    # another slot of the bundle writes a lane's word: its order would matter
    crowded = [{"alu": [s for b in chained for s in b["alu"]], "load": [("const", 20, 1)]}]
    assert lane_groups(crowded, 0, 1) == []


def test_a_scalar_alu_bound_block_merges_lanes_into_vector_ops():
    text = "\n".join([".vector a, 4", ".vector b, 4", ".vector c, 4"] + [
        f"add c[{8 * i + lane}], a[{8 * i + lane}], b[{8 * i + lane}]"
        for _ in range(6) for i in range(4) for lane in range(8)])
    s = schedule(text)
    lines = report(s).splitlines()
    assert lines[2] == ("lane merging: 18 groups of 8 scalar ALU ops run as one vector op "
                        "each (alu 192 -> 48 ops, valu 0 -> 18)")
    assert s.after < schedule(text, split=False).after


def test_diff_shows_merged_lanes_as_their_vector_op():
    from asm.stages.assembler import assemble
    from asm.views.diff import diff_kernels
    src = ".vector a, 4\n.vector b, 4\n.vector c, 4\n" + "".join(
        f"    add c[{8 * i + lane}], a[{8 * i + lane}], b[{8 * i + lane}]\n"
        for _ in range(6) for i in range(4) for lane in range(8))
    before = assemble(src)
    after = schedule(before, level=2).kernel
    text, changed = diff_kernels(before, after)
    merged = [ln for ln in text.splitlines() if "# merged from 8 scalar lanes" in ln]
    lanes = [ln for ln in text.splitlines() if "# lane " in ln]
    assert len(merged) == 18 and len(lanes) == 18 * 8
    assert merged[0].startswith(">    vadd          c, a, b    # merged from 8 scalar lanes "
                                "(bundles 0, 1, 2, 3, 4, 5, 6, 7)")
    assert lanes[1].startswith("<    add           c[1], a[1], b[1]    # lane 1 of "
                               "'vadd c, a, b' (bundle 0)")
