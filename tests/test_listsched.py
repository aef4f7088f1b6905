"""The list-scheduling pass: the compiled one and the Python one agree, and a
schedule keeps every edge and slot limit."""

from __future__ import annotations

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from asm.sched import compiled, graph, listsched, priorities
from asm.sched.graph import CAPS, Cyclic, Graph
from asm.sched.listsched import backward_schedule, list_schedule


@st.composite
def graphs(draw, max_ops: int = 60):
    """Random DAGs: edges go from lower to higher op numbers, latency 0 or 1."""
    n = draw(st.integers(0, max_ops))
    engines = draw(st.lists(st.integers(0, len(CAPS) - 1), min_size=n, max_size=n))
    succ = []
    for i in range(n):
        later = st.integers(i + 1, n - 1) if i + 1 < n else st.nothing()
        targets = draw(st.lists(later, max_size=4, unique=True)) if i + 1 < n else []
        succ.append(tuple((t, draw(st.integers(0, 1))) for t in targets))
    return Graph(succ, engines)


def _priority(draw_list, n):
    return draw_list[:n] + [0] * (n - len(draw_list))


def respects(g: Graph, cycle_of: list[int]) -> bool:
    edges = all(cycle_of[s] >= cycle_of[i] + lat for i in range(g.n) for s, lat in g.succ[i])
    per: dict[tuple[int, int], int] = {}
    for i in range(g.n):
        key = (cycle_of[i], g.engine[i])
        per[key] = per.get(key, 0) + 1
    return edges and all(c <= CAPS[e] for (_, e), c in per.items())


@pytest.mark.skipif(compiled.core is None, reason="the compiled pass is not built")
@settings(deadline=None, max_examples=examples(150))
@given(graphs(), st.lists(st.integers(-50, 50), max_size=60), st.booleans())
def test_compiled_pass_gives_the_python_pass_cycles(g, values, one_order):
    priority = _priority(values, g.n)
    scheduled = list_schedule(g, priority, one_order=one_order)
    assert scheduled.tolist() == list_schedule(g, priority, native=False,
                                               one_order=one_order).tolist()
    assert respects(g, scheduled.tolist())


supplies = st.builds(listsched.Supply, st.sampled_from(graph.ENGINE_NAMES),
                     st.integers(0, 4), st.integers(0, 6))


@pytest.mark.skipif(compiled.core is None, reason="the compiled pass is not built")
@settings(deadline=None, max_examples=examples(150))
@given(graphs(), st.lists(st.integers(-50, 50), max_size=60), supplies, st.booleans())
def test_compiled_pass_keeping_an_engine_supplied_gives_the_python_cycles(g, values, supply,
                                                                        one_order):
    priority = _priority(values, g.n)
    scheduled = list_schedule(g, priority, supply=supply, one_order=one_order)
    assert scheduled.tolist() == list_schedule(g, priority, native=False, supply=supply,
                                               one_order=one_order).tolist()
    assert respects(g, scheduled.tolist())


@pytest.mark.parametrize("native", [True, False])
def test_an_op_made_ready_within_a_cycle_goes_before_ops_later_in_the_priority(native):
    """A flow op, first in the priority, reads a word a load then writes (a
    zero-latency edge), and two more loads, later in the priority, are ready
    from the start: the cycle's ops go in one priority order across the
    engines, so the waiting load shares the flow op's cycle and the last
    load waits. (Engine by engine, the load engine, whose turn comes before
    the flow engine's, would have filled its two slots first.)"""
    flow, load = (graph.ENGINE_INDEX[e] for e in ("flow", "load"))
    g = Graph([((1, 0),), (), (), ()], [flow, load, load, load])
    assert list_schedule(g, [0, 1, 2, 3], native=native).tolist() == [0, 0, 0, 1]
    assert list_schedule(g, [0, 1, 2, 3], native=native, one_order=False).tolist() == [0, 1, 0, 0]


def test_keeping_an_engine_supplied_changes_which_ready_op_goes_first():
    """Two ready vector ops, one slot's worth a cycle: by priority the one far
    from any load goes first; kept supplied, the load engine gets its load a
    cycle sooner."""
    valu, load = (graph.ENGINE_INDEX[e] for e in ("valu", "load"))
    # 0..5: valu ops (six fill the engine's slots for a cycle), 6: valu -> 7: load
    succ = [()] * 6 + [((7, 1),), ()]
    g = Graph(succ, [valu] * 7 + [load])
    priority = [0] * 6 + [1, 1]
    plain = list_schedule(g, priority)
    fed = list_schedule(g, priority, supply=listsched.Supply("load", horizon=1, reach=2))
    assert plain[6] == 1 and plain[7] == 2
    assert fed[6] == 0 and fed[7] == 1


@settings(deadline=None, max_examples=examples(150))
@given(graphs(), st.lists(st.integers(-50, 50), max_size=60))
def test_forward_and_backward_passes_keep_every_edge_and_limit(g, values):
    priority = _priority(values, g.n)
    for cycle_of in (list_schedule(g, priority), list_schedule(g, priority, native=False),
                     backward_schedule(g, priority)):
        assert respects(g, cycle_of)


@pytest.mark.skipif(compiled.core is None, reason="the compiled walks are not built")
@settings(deadline=None, max_examples=examples(150))
@given(graphs())
def test_compiled_graph_walks_give_the_python_walks(g):
    """Topological order, heights, releases and distances to each engine, of a
    graph and of its reverse, compiled and in Python."""
    def walks(of: Graph) -> tuple:
        return (of.order, of.heights, of.releases,
                [graph.distance_to(of, e) for e in graph.ENGINE_NAMES])
    native = [walks(g), walks(g.reverse)]
    saved = compiled.core
    compiled.core = None
    try:
        plain = Graph(g.succ, g.engine)
        python = [walks(plain), walks(plain.reverse)]
    finally:
        compiled.core = saved
    assert native == python
    assert g.reverse.succ == plain.reverse.succ


@pytest.mark.skipif(compiled.core is None, reason="the compiled walks are not built")
@settings(deadline=None, max_examples=examples(100))
@given(graphs(max_ops=100), st.lists(st.sampled_from([0.0, 0.25, 1 / 3, 0.5, 1.0]),
                                     min_size=len(CAPS), max_size=len(CAPS)))
def test_compiled_downstream_work_gives_the_python_work(g, values):
    weights = {e: v for e, v in zip(graph.ENGINE_NAMES, values, strict=True)}
    assert priorities.downstream_work(g, weights) == \
        priorities.downstream_work(g, weights, native=False)
    # and past the size for bit sets, the sums over successors
    limit = priorities.EXACT_WORK_LIMIT
    priorities.EXACT_WORK_LIMIT = 0
    try:
        assert priorities.downstream_work(g, weights) == \
            priorities.downstream_work(g, weights, native=False)
    finally:
        priorities.EXACT_WORK_LIMIT = limit


def test_a_cyclic_graph_is_refused():
    with pytest.raises(Cyclic):
        Graph([((1, 1),), ((0, 1),)], [0, 0])


@pytest.mark.skipif(compiled.core is None, reason="the compiled pass is not built")
def test_the_pass_leaves_out_edges_a_path_of_two_implies_and_only_those():
    # 0 -> 2 (latency 1) is implied by 0 -> 1 -> 2 (1 + 0), and 0 -> 3 by
    # 0 -> 2 -> 3 (1 + 0), itself left out: 0 -> 1 -> 2 -> 3 holds both.
    g = Graph([((1, 1), (2, 1), (3, 1)), ((2, 0),), ((3, 0),), ()], [0, 0, 0, 0])
    offsets, edges, _, npred = g.pass_arrays
    kept = {(i, int(e) & ~graph.LATENCY_BIT, int(bool(int(e) & graph.LATENCY_BIT)))
            for i in range(g.n) for e in edges[offsets[i]:offsets[i + 1]]}
    assert kept == {(0, 1, 1), (1, 2, 0), (2, 3, 0)}
    assert npred.tolist() == [0, 1, 1, 1]
    g = Graph([((1, 0), (2, 1)), ((2, 0),), ()], [0, 0, 0])  # 0 + 0 < 1: kept
    assert len(g.pass_arrays[1]) == 3
