"""A built block keeps its edges as arrays its nodes share (asm/sched/deps.py
Edges): the successors made from them are those put in one by one, in the
same order, and the readers that take the arrays (the scheduler's graph,
predecessors) read what the successors say. The edges through scratch are
found compiled as NumPy finds them."""

from __future__ import annotations

import numpy as np
import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import any_programs, programs

from asm.cfg import ControlFlow
from asm.sched import compiled
from asm.sched.deps import (
    SYNC,
    SYNC_OP,
    Edges,
    OpNode,
    _bundle_nodes,
    _edge,
    _ScratchOrder,
    _settle,
    predecessors,
)
from asm.sched.graph import Graph


def _nodes(n: int) -> list[OpNode]:
    return [OpNode(i, i, 0, SYNC, (SYNC,), SYNC_OP, (), ()) for i in range(n)]


@st.composite
def edge_sets(draw):
    """(ops, edges through scratch as build_block finds them: sorted by source
    then target, each pair once; then edges added one by one, as memory,
    trace and control order add them)."""
    n = draw(st.integers(1, 12))
    forward = draw(st.booleans())  # (then acyclic: a graph can be made of it)
    pair = st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(
        lambda p: p[0] < p[1] if forward else p[0] != p[1])
    pairs = draw(st.sets(pair, max_size=30))
    scratch = sorted((a, b, draw(st.integers(0, 1))) for a, b in pairs)
    added = draw(st.lists(st.tuples(pair, st.integers(0, 1)).map(lambda t: (*t[0], t[1])),
                          max_size=30))
    return n, forward, scratch, added


@settings(max_examples=examples(200))
@given(edge_sets())
def test_successors_are_those_put_in_one_by_one(case):
    n, forward, scratch, added = case
    expected: list[dict[int, int]] = [{} for _ in range(n)]
    for a, b, lat in scratch:
        expected[a][b] = lat
    for a, b, lat in added:
        if expected[a].get(b, -1) < lat:
            expected[a][b] = lat
    nodes = _nodes(n)
    for a, b, lat in added:
        _edge(nodes, a, b, lat)
    src, dst, lats = (np.array([e[k] for e in scratch], dtype=np.int64) for k in range(3))
    _settle(nodes, src, dst, lats)
    assert [list(x.succs.items()) for x in nodes] == [list(d.items()) for d in expected]
    # The arrays' readers read the same as the successors' readers.
    loose = _nodes(n)  # (no shared arrays: each node its own successors)
    for x, y in zip(nodes, loose, strict=True):
        y._succs = dict(x.succs)
    assert Edges.of(nodes) is not None and loose[0].edges is None
    of = list(range(0, n, 2))
    assert predecessors(nodes, of) == predecessors(loose, of)
    assert list(map(list, predecessors(nodes, of).values())) == \
        list(map(list, predecessors(loose, of).values()))  # (in the same order)
    if forward:
        g, h = Graph.from_nodes(nodes), Graph.from_nodes(loose)
        assert g.offsets.tolist() == h.offsets.tolist()
        assert g.targets.tolist() == h.targets.tolist() and g.lats.tolist() == h.lats.tolist()


def test_a_node_list_that_is_not_its_whole_block_reads_the_successors():
    nodes = _nodes(3)
    _edge(nodes, 0, 2, 1)
    none = np.zeros(0, dtype=np.int64)
    _settle(nodes, none, none, none)
    part = [nodes[0], nodes[2]]
    assert Edges.of(part) is None and Edges.of(nodes) is nodes[0].edges
    assert predecessors(part, [2]) == {2: {0: 1}}


@settings(deadline=None, max_examples=examples(200))
@given(st.one_of(programs(), any_programs(max_bundles=14)))
def test_the_compiled_scratch_edges_are_the_numpy_ones(program):
    # (bundles of several ops: a read sees the writes of earlier bundles only)
    if compiled.core is None:
        pytest.skip("the compiled edges are not built")
    for block in ControlFlow(program).blocks():
        ops: list[OpNode] = []
        for pc in range(block.start, block.end):
            ops.extend(_bundle_nodes(program, pc, len(ops)))
        if not ops:
            continue
        scratch = _ScratchOrder(ops)
        native, numpy_made = scratch.edges(), scratch.edges(native=False)
        assert [a.tolist() for a in native] == [a.tolist() for a in numpy_made]
        assert all(a.dtype == b.dtype for a, b in zip(native, numpy_made, strict=True))
