"""Every corpus kernel (verified on the take-home's simulator) runs exactly on both engines."""

import pytest

import emu
from asm.kernel import kernel_from_json
from emu.problem import Params, compare_values, expected_output, make_image


@pytest.mark.parametrize("engine", ["reference", "fast"])
def test_corpus_kernel_is_correct_with_its_recorded_cycle_count(corpus_entry, engine):
    p = corpus_entry["params"]
    params = Params(p["forest_height"], p["batch_size"], p["rounds"])
    assert params.n_nodes == p["n_nodes"]
    kernel = kernel_from_json(corpus_entry)
    for seed in (123, 2024):
        mem = make_image(params, seed)
        result = emu.run(kernel, mem, engine=engine)
        assert result.cycles == corpus_entry["cycles"]
        assert compare_values(result.mem, expected_output(mem)) is None


def test_corpus_kernels_with_debug_compares_pass_them(corpus_entry):
    # tcole333 carries thousands of vcompare slots against the value trace.
    p = corpus_entry["params"]
    params = Params(p["forest_height"], p["batch_size"], p["rounds"])
    kernel = kernel_from_json(corpus_entry)
    mem = make_image(params, 5)
    trace: dict = {}
    expected = expected_output(mem, trace)
    result = emu.run(kernel, mem, debug=True, value_trace=trace)
    assert compare_values(result.mem, expected) is None
