"""Exact machine behaviour, one fact per test, on both engines (the fast one on
its compiled core and in Python)."""

import pytest

import emu
from asm import Kernel
from emu import EmuError, Status

ENGINES = ["reference", "fast", "fast-python"]


def _engine(kw: dict) -> dict:
    """'fast-python': the fast engine without its compiled core."""
    if kw.get("engine") == "fast-python":
        kw = {**kw, "engine": "fast", "native": False}
    return kw


def run(program, mem=None, **kw):
    return emu.run(Kernel(program), mem if mem is not None else [0] * 16, **_engine(kw))


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param


def test_slots_read_the_state_from_the_start_of_the_bundle(engine):
    r = run([{"load": [("const", 0, 5)]},
             {"alu": [("+", 1, 0, 0), ("+", 0, 1, 1)]}], engine=engine)
    assert r.scratch[1] == 10 and r.scratch[0] == 0  # the second slot saw the old word 1


def test_later_slot_wins_a_write_to_the_same_word(engine):
    r = run([{"load": [("const", 0, 1), ("const", 0, 2)]}], engine=engine)
    assert r.scratch[0] == 2
    r = run([{"flow": [("add_imm", 0, 3, 9)], "load": [("const", 0, 2)]}], engine=engine)
    assert r.scratch[0] == 2  # engine order in the bundle decides


def test_memory_writes_land_after_every_read(engine):
    mem = [7, 0, 0, 0]
    r = run([{"store": [("store", 0, 1)], "load": [("load", 2, 0)]}], mem, engine=engine)
    assert r.mem[0] == 0 and r.scratch[2] == 7


def test_relative_jump_counts_from_the_next_bundle(engine):
    r = run([{"load": [("const", 0, 1)]},
             {"flow": [("cond_jump_rel", 0, 1)]},
             {"load": [("const", 1, 99)]},
             {"load": [("const", 2, 5)]}], engine=engine)
    assert r.scratch[1] == 0 and r.scratch[2] == 5 and r.cycles == 3


def test_halt_lets_the_rest_of_its_bundle_run(engine):
    r = run([{"flow": [("halt",)], "load": [("const", 0, 4)]},
             {"load": [("const", 1, 4)]}], engine=engine)
    assert r.status is Status.HALTED and r.scratch[0] == 4 and r.scratch[1] == 0
    assert r.cycles == 1 and r.pc == 1


def test_debug_only_and_empty_bundles_cost_no_cycle_but_empty_engine_lists_do(engine):
    r = run([{"debug": [("comment", "x")]}, {}, {"alu": []}, {"valu": [], "debug": []}],
            engine=engine)
    assert r.cycles == 2


def test_pause_stops_only_when_enabled_and_resumes_after_it(engine):
    prog = [{"flow": [("pause",)]}, {"load": [("const", 0, 3)]}]
    assert run(prog, engine=engine).cycles == 2
    first = run(prog, engine=engine, pause=True)
    assert first.paused and first.cycles == 1 and first.scratch[0] == 0
    second = first.machine.run()
    assert second.status is Status.FINISHED and second.scratch[0] == 3 and second.cycles == 2


def test_trace_write_appends_in_execution_order(engine):
    r = run([{"load": [("const", 0, 8)]}, {"flow": [("trace_write", 0)]},
             {"flow": [("trace_write", 1)]}], engine=engine)
    assert r.trace_buffer == [8, 0]


def test_jump_to_the_end_finishes(engine):
    r = run([{"flow": [("jump", 2)]}, {"load": [("const", 0, 1)]}], engine=engine)
    assert r.status is Status.FINISHED and r.scratch[0] == 0


@pytest.mark.parametrize("jump", [("jump", 5), ("cond_jump_rel", 1, 3), ("jump_indirect", 1)])
def test_a_taken_jump_past_the_end_is_a_fault(engine, jump):
    # A departure from the reference simulator, which would end the run there
    # (docs/isa.md): such a jump is a bug the assembler also refuses.
    program = [{"load": [("const", 1, 9)]}, {"flow": [jump]}, {"load": [("const", 0, 1)]}]
    with pytest.raises(EmuError, match=r"pc 1, flow slot 0 .*past the end of the program"):
        run(program, engine=engine)


def test_an_untaken_jump_past_the_end_is_no_fault(engine):
    r = run([{"flow": [("cond_jump", 0, 99)]}, {"load": [("const", 0, 1)]}], engine=engine)
    assert r.status is Status.FINISHED and r.scratch[0] == 1


def test_load_offset_shifts_both_scratch_operands(engine):
    mem = [0, 0, 0, 42]
    r = run([{"load": [("const", 13, 3)]}, {"load": [("load_offset", 20, 10, 3)]}], mem,
            engine=engine)
    assert r.scratch[23] == 42


def test_vector_ops_work_lane_by_lane(engine):
    prog = [{"load": [("const", i, i + 1) for i in range(2)]} for _ in range(1)]
    prog += [{"valu": [("vbroadcast", 8, 0), ("vbroadcast", 16, 1)]},
             {"valu": [("multiply_add", 24, 8, 16, 16), ("-", 32, 8, 16)]}]
    r = run(prog, engine=engine)
    assert r.scratch[24:32] == [1 * 2 + 2] * 8
    assert r.scratch[32:40] == [2**32 - 1] * 8


def _fault(program, mem=None, **kw) -> EmuError:
    with pytest.raises(EmuError) as info:
        run(program, mem, **kw)
    return info.value


def test_division_by_zero_names_pc_engine_and_slot(engine):
    e = _fault([{"load": [("const", 1, 1)]},
                {"alu": [("+", 2, 1, 1), ("%", 3, 1, 0)]}], engine=engine)
    assert (e.pc, e.engine, e.slot, e.cycle) == (1, "alu", 1, 1)
    assert "division by zero" in str(e)


def test_memory_out_of_range_is_a_fault_for_loads_and_stores(engine):
    e = _fault([{"load": [("const", 0, 4)]}, {"load": [("vload", 8, 0)]}], [0] * 8,
               engine=engine)
    assert e.pc == 1 and "outside the image" in str(e)
    e = _fault([{"load": [("const", 0, 8)]}, {"store": [("store", 0, 0)]}], [0] * 8,
               engine=engine)
    assert e.pc == 1 and e.engine == "store"


def test_a_faulting_bundle_changes_nothing(engine):
    m = emu.Machine(Kernel([{"load": [("const", 0, 100)]},
                            {"load": [("const", 5, 9), ("load", 6, 0)]}]), [0] * 4,
                    **_engine({"engine": engine}))
    with pytest.raises(EmuError):
        m.run()
    assert m.state.scratch[5] == 0 and m.state.pc == 1 and m.state.cycle == 1


def test_relative_jump_before_the_start_is_a_fault(engine):
    e = _fault([{"load": [("const", 0, 1)]}, {"flow": [("cond_jump_rel", 0, -5)]}],
               engine=engine)
    assert e.pc == 1 and "before the start" in str(e)


def test_debug_compare_mismatch_and_missing_key_are_faults(engine):
    prog = [{"debug": [("compare", 0, (0, 0, "val"))]}]
    assert run(prog, engine=engine).cycles == 0  # debug off: ignored
    e = _fault(prog, engine=engine, debug=True, value_trace={(0, 0, "val"): 3})
    assert "debug compare failed" in str(e)
    e = _fault(prog, engine=engine, debug=True, value_trace={})
    assert "not in the value trace" in str(e)


def test_infinite_loop_stops_at_the_cycle_limit(engine):
    e = _fault([{"flow": [("jump", 0)]}], engine=engine, max_cycles=50)
    assert "cycle limit" in str(e) and e.cycle == 51


def test_fault_names_the_source_line_when_known(engine):
    k = Kernel([{"alu": [("//", 0, 0, 0)]}], source=["k.vasm:7"])
    with pytest.raises(EmuError) as info:
        emu.run(k, [0], **_engine({"engine": engine}))
    assert str(info.value).startswith("k.vasm:7: pc 0, alu slot 0")
