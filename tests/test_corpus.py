"""Every corpus kernel (verified on the take-home's simulator) runs exactly on both engines."""

import pytest

import emu
from asm.kernel import kernel_from_json
from emu.problem import Params, compare_values, expected_output, make_image


@pytest.mark.parametrize(("engine", "core"), [("reference", False), ("fast", False),
                                             ("fast", True)])
def test_corpus_kernel_is_correct_with_its_recorded_cycle_count(corpus_entry, engine, core):
    p = corpus_entry["params"]
    params = Params(p["forest_height"], p["batch_size"], p["rounds"])
    assert params.n_nodes == p["n_nodes"]
    kernel = kernel_from_json(corpus_entry)
    # (the reference engine, ten times slower, on one image: the fast ones
    # are compared with it on everything by the differential tests)
    for seed in (123,) if engine == "reference" else (123, 2024):
        mem = make_image(params, seed)
        result = emu.run(kernel, mem, engine=engine, native=core)
        assert result.cycles == corpus_entry["cycles"]
        assert compare_values(result.mem, expected_output(mem)) is None


def test_corpus_kernel_runs_from_its_json_lists_as_users_hold_them(corpus_entry):
    # The bundles as a JSON dump reads back: decoded and checked by the
    # compiled core (where built) without a Kernel.
    p = corpus_entry["params"]
    mem = make_image(Params(p["forest_height"], p["batch_size"], p["rounds"]), 7)
    result = emu.run(corpus_entry["instrs"], mem)
    assert result.cycles == corpus_entry["cycles"]
    assert compare_values(result.mem, expected_output(mem)) is None


def test_corpus_kernels_debug_compares_run_alike_on_both_engines(corpus_entry):
    # tcole333 carries thousands of vcompare slots against the value trace, and
    # they pass. Some authors left compares that fail (the submission harness
    # runs without debugging, so nothing told them): both engines must then
    # stop at the same compare with the same message.
    p = corpus_entry["params"]
    params = Params(p["forest_height"], p["batch_size"], p["rounds"])
    kernel = kernel_from_json(corpus_entry)
    mem = make_image(params, 5)
    trace: dict = {}
    expected = expected_output(mem, trace)
    outcomes = []
    for engine in ("reference", "fast"):
        try:
            result = emu.run(kernel, mem, debug=True, value_trace=trace, engine=engine)
        except emu.EmuError as e:
            outcomes.append(("fault", e.signature(), str(e)))
        else:
            assert compare_values(result.mem, expected) is None
            outcomes.append(("ran", result.cycles))
    assert outcomes[0] == outcomes[1]
    if corpus_entry["repo"].startswith("tcole333/"):
        assert outcomes[0][0] == "ran"
