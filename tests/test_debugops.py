"""Debug ops leave the search's graph and are placed afterwards
(asm/sched/debugops.py): every dependence of the block still holds, bundle by
bundle, and no bundle takes more debug ops than the machine's limit."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from budget import examples
from conftest import load_corpus
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import programs

import emu
from asm import isa
from asm.kernel import Kernel, kernel_from_json
from asm.sched.debugops import DEBUG_SLOTS, BlockGraph
from asm.sched.deps import OpNode, blocks
from asm.sched.flatten import flatten
from asm.sched.graph import Cyclic
from asm.sched.listsched import list_schedule
from asm.sched.schedule import schedule_kernel
from asm.stages.assembler import assemble
from emu.problem import Params, compare_values, expected_output, make_image

CORPUS = Path(__file__).parent / "corpus"


def assert_placed(nodes, cycle_of) -> None:
    """Every edge u -> v of latency 1 puts v in a later bundle than u, of
    latency 0 in the same one or later (a bundle is a distinct cycle, whole or
    fractional); debug ops per bundle within the limit."""
    for u in nodes:
        for v, lat in u.succs.items():
            assert cycle_of[v] > cycle_of[u.index] if lat else cycle_of[v] >= cycle_of[u.index]
    debug_per_bundle: dict[float, int] = {}
    for x in nodes:
        if x.engine == "debug":
            debug_per_bundle[cycle_of[x.index]] = debug_per_bundle.get(cycle_of[x.index], 0) + 1
    assert max(debug_per_bundle.values(), default=0) <= DEBUG_SLOTS


@settings(deadline=None, max_examples=examples(60))
@given(programs(max_bundles=14), st.randoms(use_true_random=False))
def test_debug_ops_placed_after_any_schedule_keep_every_dependence(program, rng):
    for block in blocks(Kernel(program)):
        if not block.nodes:
            continue
        try:
            bg = BlockGraph(block.nodes)
        except Cyclic:  # (kept as written: two writes of a word in one bundle)
            continue
        priority = np.array([rng.random() for _ in range(bg.graph.n)])
        assert_placed(block.nodes, bg.cycles(list_schedule(bg.graph, priority)))


def _loose(nodes):
    """The nodes again, each with its own successors (no shared arrays):
    BlockGraph then passes the debug ops through with its Python loop."""
    out = []
    for x in nodes:
        y = OpNode(x.index, x.pc, x.at, x.engine, x.slot, x.op, x.reads, x.writes)
        y._succs = dict(x.succs)
        out.append(y)
    return out


@settings(deadline=None, max_examples=examples(100))
@given(programs(max_bundles=14))
def test_the_graph_without_debug_ops_from_the_arrays_is_the_loops(program):
    for block in blocks(Kernel(program)):
        if not block.nodes:
            continue
        try:
            made, looped = BlockGraph(block.nodes), BlockGraph(_loose(block.nodes))
        except Cyclic:
            continue
        assert made.keep is None or looped.keep.tolist() == made.keep.tolist()
        g, h = made.graph, looped.graph
        assert (g.offsets.tolist(), g.targets.tolist(), g.lats.tolist(), g.engine) == \
            (h.offsets.tolist(), h.targets.tolist(), h.lats.tolist(), h.engine)


def test_more_debug_ops_than_a_bundle_takes_get_bundles_of_their_own():
    # 70 compares of a word that the next op overwrites: all of them must read
    # it between the two writes, a window of one cycle.
    src = (".scratch a\n.scratch b\nconst a, 1\n" + "compare a, (0, 0)\n" * 70 +
           "const a, 2\nconst b, 5\ntrace_write a\n")
    kernel = assemble(src)
    [block] = [b for b in blocks(kernel) if b.nodes]
    bg = BlockGraph(block.nodes)
    cycle_of = bg.cycles(list_schedule(bg.graph, np.zeros(bg.graph.n)))
    assert_placed(block.nodes, cycle_of)
    s = schedule_kernel(kernel, level=1)  # (`const b` joins `const a, 1`: 4 cycles -> 3)
    assert s.after == 3 and s.before == 4
    debug = [len(b["debug"]) for b in s.kernel.program if "debug" in b]
    assert sum(debug) == 70 and len(debug) == 2 and max(debug) <= DEBUG_SLOTS
    r = emu.run(s.kernel, [0] * 16, debug=True, value_trace={(0, 0): 1})
    assert r.trace_buffer == [2] and r.cycles == 3


@pytest.mark.parametrize("name", ["pramodith", "tcole333"])
def test_corpus_debug_compares_still_pass_after_scheduling(name):
    # Thousands of vcompare slots against the value trace, which pass as the
    # authors packed them: flattened and scheduled, each still reads its value.
    entry = load_corpus(CORPUS / f"{name}+original_performance_takehome.small.json.gz")
    p = entry["params"]
    mem = make_image(Params(p["forest_height"], p["batch_size"], p["rounds"]), 5)
    trace: dict = {}
    expected = expected_output(mem, trace)
    kernel = kernel_from_json(entry)
    assert sum(len(b.get("debug", ())) for b in kernel.program) > 100
    s = schedule_kernel(flatten(kernel, random.Random(3)), level=1)
    assert s.after < entry["cycles"] * 1.2
    result = emu.run(s.kernel, mem, debug=True, value_trace=trace)
    assert compare_values(result.mem, expected) is None
    assert all(len(b.get("debug", ())) <= isa.SLOT_LIMITS["debug"] for b in s.kernel.program)
