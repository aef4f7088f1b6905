"""Property: the fast engine (on its compiled core and in Python) and the reference
engine agree on everything observable."""

from __future__ import annotations

import json

import pytest
from budget import examples
from hypothesis import example, given, settings
from hypothesis import strategies as st
from strategies import MEM_SIZE, any_programs, memories, programs, value_trace

from asm import Kernel
from emu import EmuError, Machine, native


def _observe(kernel, mem: list[int], engine: str, pause: bool, debug: bool,
             core: bool = True) -> list:
    """Everything a caller can see, stop by stop (up to a few pauses), or the fault.
    `core`: whether the fast engine may run on the compiled core."""
    m = Machine(kernel, mem, engine=engine, pause=pause, debug=debug,
                value_trace=value_trace(mem), max_cycles=300, native=core)
    seen = []
    for _ in range(4):
        try:
            r = m.run()
        except EmuError as e:
            seen.append(("fault", e.signature(), m.state.scratch[:], m.state.mem[:],
                         m.state.trace_buffer[:]))
            break
        seen.append((r.cycles, r.pc, r.status, r.mem, r.scratch, r.trace_buffer))
        if not r.paused:
            break
    return seen


@given(any_programs(), memories(), st.booleans(), st.booleans())
def test_fast_engine_matches_reference_on_random_programs(program, mem, pause, debug):
    kernel = Kernel(program)
    expected = _observe(kernel, mem, "reference", pause, debug)
    assert _observe(kernel, mem, "fast", pause, debug, core=False) == expected
    assert _observe(kernel, mem, "fast", pause, debug) == expected


@settings(max_examples=examples(50))
@given(any_programs(), memories(), st.booleans())
def test_compiled_core_runs_bundle_lists_as_the_reference_runs_the_kernel(program, mem, pause):
    # What users hold: KernelBuilder.instrs (tuples) or a JSON dump read back
    # (lists), decoded and checked by the core without a Kernel.
    lists = json.loads(json.dumps(program))
    expected = _observe(Kernel(program), mem, "reference", pause, False)
    assert _observe(program, mem, "fast", pause, False) == expected
    assert _observe(lists, mem, "fast", pause, False) == expected


@pytest.mark.skipif(not native.AVAILABLE, reason="the compiled core is not built")
def test_the_compiled_core_takes_valid_programs_and_declines_odd_ones():
    ok = [{"load": [("const", 0, 5)]}, {"alu": [["+", 1, 0, 0]], "debug": []}]
    assert Machine(ok, [0])._decoded is not None
    assert Machine(Kernel(ok), [0])._decoded is not None
    # Valid but unusual (a float operand equal to an int is accepted by the
    # loader when it repeats an earlier slot): the Python loader decides.
    odd = [{"alu": [("+", 1, 0, 0)]}, {"alu": [("+", 1.0, 0, 0)]}]
    m = Machine(odd, [0])
    assert m._decoded is None and m.run().cycles == 2
    assert Machine(ok, [0], debug=True)._decoded is None  # compares read the value trace


@given(programs(max_bundles=6), memories())
def test_repeated_bundles_decode_like_cold_ones(program, mem):
    # Repeating the program makes every bundle occur twice, so the fast engine
    # decodes it into closures instead of interpreting it.
    kernel = Kernel(program + program)
    assert _observe(kernel, mem, "fast", False, False, core=False) == _observe(
        kernel, mem, "reference", False, False)


@given(programs(max_bundles=5), memories())
# Found by this test: a disabled pause in a bundle that turns hot.
@example(program=[{"alu": [("+", 0, 0, 0)], "flow": [("pause",)]}], mem=[0] * MEM_SIZE)
def test_loops_promote_to_decoded_code_without_changing_results(program, mem):
    # A counted loop around the program: the block runs several times.
    counter, one = 60, 61
    loop = [
        {"load": [("const", counter, 3), ("const", one, 1)]},
        *program,
        {"alu": [("-", counter, counter, one)]},
        {"flow": [("cond_jump", counter, 1)]},
    ]
    kernel = Kernel(loop)
    expected = _observe(kernel, mem, "reference", False, False)
    assert _observe(kernel, mem, "fast", False, False, core=False) == expected
    assert _observe(kernel, mem, "fast", False, False) == expected


def test_fault_in_a_block_is_placed_at_its_own_bundle():
    # Found by scheduler stress testing: the fast engine blamed pc 10, the
    # bundle before the real fault, and its replay on the reference disagreed.
    import emu
    from asm.kernel import Kernel
    program = [{"load": [("const", i, v)]} for i, v in enumerate([0, 16, 0, 0, 0, 0, 1, 0])]
    program += [{}, {"valu": [("<<", 30, 1, 38)], "alu": []},
                {"valu": [("+", 0, 0, 32), ("+", 42, 0, 0)]},
                {"alu": [("//", 0, 0, 3)], "valu": []}, {"flow": [("jump", 0)], "alu": []}]
    reasons = []
    for engine, core in (("reference", False), ("fast", False), ("fast", True)):
        try:
            emu.run(Kernel(program), [0] * 40, max_cycles=2000, engine=engine, native=core)
        except emu.EmuError as e:
            reasons.append((e.pc, e.reason))
    assert reasons == [(11, "division by zero (0 by 0)")] * 3
