"""Batched runs (`emu.run_batch`) equal `emu.run` image by image: memory,
scratch, trace buffer, cycles, pc, status, and the very fault; both ways a
batch runs (the compiled core's lockstep groups and NumPy's)."""

from __future__ import annotations

import json

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import MEM_SIZE, any_programs, memories, programs

import emu
from asm import Kernel
from asm.errors import ImageError, KernelError
from emu import EmuError, Machine, Status, native
from emu.problem import Params, make_image


def single(kernel: Kernel, mem: list[int], max_cycles: int | None = 300) -> tuple:
    m = Machine(kernel, mem, max_cycles=max_cycles)
    try:
        r = m.run()
    except EmuError as e:
        st_ = m.state
        return ("fault", e.signature(), str(e), st_.scratch, st_.mem, st_.trace_buffer)
    return (r.cycles, r.pc, r.status, r.mem, r.scratch, r.trace_buffer)


def batched(result) -> tuple:
    if result.status is Status.FAULTED:
        e = result.error
        return ("fault", e.signature(), str(e), result.scratch, result.mem, result.trace_buffer)
    return (result.cycles, result.pc, result.status, result.mem, result.scratch,
            result.trace_buffer)


# Both ways a batch runs; the compiled one only where the core is built.
WAYS = [pytest.param(True, id="compiled",
                     marks=pytest.mark.skipif(not native.AVAILABLE, reason="no compiled core")),
        pytest.param(False, id="numpy")]


@pytest.mark.parametrize("compiled", WAYS)
@given(any_programs(), st.lists(memories(), min_size=1, max_size=6))
def test_batch_equals_single_runs_on_random_programs(compiled, program, mems):
    kernel = Kernel(program)
    results = emu.run_batch(kernel, mems, max_cycles=300, compiled=compiled)
    assert [batched(r) for r in results] == [single(kernel, m) for m in mems]


@st.composite
def looping_programs(draw):
    """A loop whose trip count and branches come from memory: images diverge."""
    body = draw(programs(max_bundles=5))
    return [
        {"load": [("const", 60, draw(st.integers(0, MEM_SIZE - 1))), ("const", 61, 1)]},
        {"load": [("load", 62, 60)]},  # the image's word decides the trip count
        {"alu": [("%", 62, 62, 63)], "load": [("const", 63, 5)]},
        *body,
        {"alu": [("-", 62, 62, 61)]},
        {"flow": [("cond_jump", 62, 3)]},
        {"flow": [("jump_indirect", 62)]},
    ]


@pytest.mark.parametrize("compiled", WAYS)
@settings(max_examples=examples(100))
@given(looping_programs(), st.lists(memories(), min_size=2, max_size=40))
def test_batch_splits_divergent_images(compiled, program, mems):
    kernel = Kernel(program)
    results = emu.run_batch(kernel, mems, max_cycles=400, compiled=compiled)
    assert [batched(r) for r in results] == [single(kernel, m, 400) for m in mems]


@pytest.mark.parametrize("compiled", WAYS)
def test_corners_of_word_arithmetic_and_memory(compiled):
    big = 0xFFFFFFFF
    program = [
        {"load": [("const", 0, big), ("const", 1, 40)]},
        {"load": [("const", 2, 3), ("const", 3, 31)]},
        {"load": [("const", 4, 5), ("const", 5, 0)]},
        {"alu": [("<<", 10, 0, 1), (">>", 11, 0, 1), ("<<", 12, 0, 3), (">>", 13, 0, 3),
                 ("-", 14, 5, 0), ("*", 15, 0, 0), ("+", 16, 0, 0), ("cdiv", 17, 0, 2),
                 ("<", 18, 5, 0), ("==", 19, 0, 0)]},
        {"valu": [("multiply_add", 24, 0, 0, 0)], "flow": [("add_imm", 20, 0, -7)]},
        # two stores to one address in one bundle: the later slot wins
        {"store": [("store", 4, 2), ("store", 4, 3)]},
        {"load": [("load", 21, 4), ("load_offset", 30, 4, 1)]},
        {"alu": [("//", 22, 0, 5)]},  # division by zero: a fault
    ]
    mems = [[7] * MEM_SIZE, list(range(MEM_SIZE))]
    results = emu.run_batch(program, mems, compiled=compiled)
    for r, m in zip(results, mems, strict=True):
        assert batched(r) == single(Kernel(program), m, None)
        assert r.status is Status.FAULTED and "division by zero" in r.error.reason
        assert r.scratch[10:20] == [0, 0, 0x80000000, 1, 1, 1, big - 1, 0x55555555, 1, 1]
        assert r.mem[5] == 31


@pytest.mark.parametrize("compiled", WAYS)
def test_fault_in_one_image_leaves_the_others_running(compiled):
    # image 0 reads out of range (its word 0 is huge); image 1 runs to the end
    program = [{"load": [("const", 0, 0)]}, {"load": [("load", 1, 0)]},
               {"load": [("load", 2, 1)]}, {"alu": [("+", 3, 2, 2)]}]
    results = emu.run_batch(program, [[1000, 0, 5], [2, 0, 5]], compiled=compiled)
    assert results[0].status is Status.FAULTED
    assert results[0].error.pc == 2 and "memory read at 1000" in results[0].error.reason
    assert results[1].status is Status.FINISHED and results[1].scratch[3] == 10


@pytest.mark.parametrize("compiled", WAYS)
def test_images_of_other_lengths_and_bad_images(compiled):
    program = [{"load": [("const", 0, 1)]}, {"load": [("load", 1, 0)]}]
    results = emu.run_batch(program, [[5, 6], [7, 8, 9], [1, 2]], compiled=compiled)
    assert [r.scratch[1] for r in results] == [6, 8, 2]
    with pytest.raises(ImageError, match="memory word 1"):
        emu.run_batch(program, [[1, 2], [1, 2 ** 32]], compiled=compiled)
    with pytest.raises(ImageError):
        emu.run_batch(program, [[1, True]], compiled=compiled)


@pytest.mark.parametrize("compiled", WAYS)
def test_a_read_from_an_empty_image_faults(compiled):
    program = [{"load": [("const", 0, 0)]}, {"load": [("vload", 8, 0)]}]
    for mems in ([[]], [[], []]):
        results = emu.run_batch(program, mems, compiled=compiled)
        assert [batched(r) for r in results] == [single(Kernel(program), m) for m in mems]
        assert all(r.status is Status.FAULTED for r in results)


def test_a_bad_program_is_refused_either_way():
    for compiled in (True, False):
        with pytest.raises(KernelError):
            emu.run_batch([{"alu": [("nope", 1, 2, 3)]}], [[0]], compiled=compiled)


def test_batch_runs_the_takehome_kernel_like_single_runs():
    from asm.stages.assembler import assemble
    kernel = assemble("programs/takehome/baseline.vasm", defines={"ROUNDS": 2, "BATCH": 8})
    mems = [make_image(Params(3, 8, 2), seed) for seed in range(5)]
    results = emu.run_batch(kernel, mems)
    assert [batched(r) for r in results] == [single(kernel, m, None) for m in mems]


@pytest.mark.slow
@pytest.mark.parametrize("compiled", WAYS)
def test_batch_equals_single_runs_on_corpus_kernels(compiled, corpus_entry):
    kernel = emu.as_kernel(json.loads(json.dumps(corpus_entry)))
    p = corpus_entry["params"]
    mems = [make_image(Params(p["forest_height"], p["batch_size"], p["rounds"]), s)
            for s in (1, 2, 3)]
    results = emu.run_batch(kernel, mems, compiled=compiled)
    assert [batched(r) for r in results] == [single(kernel, m, None) for m in mems]


@pytest.mark.parametrize("compiled", WAYS)
def test_store_address_written_by_the_same_bundle(compiled):
    # Found on a scheduled take-home kernel: the store must use the address
    # from before the bundle, though the bundle also rewrites that word.
    program = [{"load": [("const", 0, 3), ("const", 1, 9)]},
               {"store": [("store", 0, 1)], "alu": [("+", 0, 0, 0)]},
               {"store": [("vstore", 0, 8)], "flow": [("add_imm", 0, 0, 1)]}]
    mems = [[0] * 20, [1] * 20]
    results = emu.run_batch(program, mems, compiled=compiled)
    assert [batched(r) for r in results] == [single(Kernel(program), m) for m in mems]
    assert results[0].mem[3] == 9


def test_the_cores_batch_entry_refuses_arrays_of_the_wrong_shape():
    if not native.AVAILABLE:
        pytest.skip("the compiled core is not built here")
    import numpy as np
    decoded = native.decode([{"load": [("const", 0, 1)]}])
    memory = np.zeros((2, 4), dtype=np.uint32)
    for scratch in (np.zeros((3, 1536), dtype=np.uint32), np.zeros((2, 100), dtype=np.uint32),
                    np.zeros((2, 1536), dtype=np.int64)):
        with pytest.raises(ValueError, match="k rows of words"):
            native.run_images(decoded, memory, scratch, max_cycles=None)
    frozen = np.zeros((2, 1536), dtype=np.uint32)
    frozen.setflags(write=False)
    with pytest.raises((ValueError, BufferError)):  # the core writes the state back
        native.run_images(decoded, memory, frozen, max_cycles=None)
