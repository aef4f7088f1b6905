"""The example kernels: each assembles (and schedules), is correct on several
seeds, and keeps its cycle count. bench/ and programs/README.md decide the
numbers; these tests only guard them against regressions."""

from __future__ import annotations

from pathlib import Path

import pytest

import emu
from asm import schedule
from asm.stages.assembler import assemble_full
from asm.views.takehome import load_instrs
from emu.problem import Params, compare_values, expected_output, make_image

ROOT = Path(__file__).parent.parent
TAKEHOME = ROOT / "programs" / "takehome"

# program -> cycles after `vasm assemble --schedule` (fast_lanes.vasm: with
# --no-split, a hand-split version of the previous fast.vasm, which plain
# vector code left to the scheduler's lane splitting matched to within 1%)
PINNED = {
    "vector.vasm": 2141,
    "fast.vasm": 1054,
    "fast_lanes.vasm": 1140,
}
NO_SPLIT = {"fast_lanes.vasm"}


def test_plain_vector_code_schedules_as_well_as_hand_split_lanes():
    # (the previous fast.vasm, split by the scheduler, took 1,139 against the
    # hand split's 1,140; today's is another kernel, far under both)
    assert PINNED["fast.vasm"] <= PINNED["fast_lanes.vasm"] * 1.01
    # (its one lane loop is the gather: load_offset, a lane at a time by nature)
    text = (TAKEHOME / "fast.vasm").read_text()
    assert text.count(".for lane") == 1 and "load_offset   node{S}, addr[{G}], lane" in text


@pytest.mark.slow
@pytest.mark.parametrize("name,cycles", PINNED.items())
def test_scheduled_program_is_correct_and_keeps_its_cycles(name, cycles):
    assembly = assemble_full(TAKEHOME / name)
    assert assembly.kernel is not None
    kernel = schedule(assembly, split=name not in NO_SPLIT).kernel
    mems = [make_image(Params(), seed) for seed in (1, 2, 3, 123)]
    for mem, result in zip(mems, emu.run_batch(kernel, mems), strict=True):
        assert result.error is None
        assert compare_values(result.mem, expected_output(mem)) is None
        assert result.cycles == cycles, f"{name}: {result.cycles} cycles, pinned {cycles}"


def test_small_vector_kernels_are_correct_unscheduled():
    for name in PINNED:
        kernel = assemble_full(TAKEHOME / name, defines={"ROUNDS": 3, "BATCH": 64}).kernel
        mem = make_image(Params(10, 64, 3), 9)
        result = emu.run(kernel, mem)
        assert compare_values(result.mem, expected_output(mem)) is None, name


def test_load_instrs_gives_the_takehome_format(tmp_path):
    from asm.kernel import save_kernel
    kernel = assemble_full(TAKEHOME / "vector.vasm", defines={"ROUNDS": 1, "BATCH": 8}).kernel
    path = tmp_path / "k.vk.json"
    save_kernel(kernel, path)
    instrs = load_instrs(path)
    assert len(instrs) == len(kernel.program)
    assert all(isinstance(s, tuple) for b in instrs for slots in b.values() for s in slots)
    assert emu.run(instrs, make_image(Params(10, 8, 1), 1)).cycles == emu.run(
        kernel, make_image(Params(10, 8, 1), 1)).cycles
