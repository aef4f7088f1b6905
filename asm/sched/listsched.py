"""List scheduling: one pass over a block's dependence graph (asm/sched/graph.py).

A pass takes a priority, one number per op (lower goes first, ties in op
order; asm/sched/priorities.py makes them), and returns the cycle of every op
(a NumPy array): cycle-driven list scheduling with one ready heap per engine,
so that a full engine costs nothing to skip. With unit-time ops, some
priority yields an optimal schedule; the search (asm/sched/search.py) looks
for it. The pass is compiled (asm/sched/_listsched.c, through
asm/sched/compiled.py) when the install could build it; the Python version
here is the same algorithm step for step.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import compiled
from .graph import CAPS, CAPS_ARRAY, ENGINE_INDEX, Cyclic, Graph, distance_to


@dataclass(frozen=True)
class Supply:
    """A rule a pass can follow besides its priority: keep `engine` supplied.
    In a cycle that starts with fewer of its ops ready than `horizon` cycles'
    worth (its slots times `horizon`), every other engine first takes its
    ready ops that lead to one of `engine`'s within `reach` latency steps,
    nearest first (then by priority).

    A priority is fixed before the pass; it cannot see that a busy engine is
    about to run dry because the others spent the last cycles on work that
    leads elsewhere (on lianghongkey the vector ALU hashing groups whose next
    gathers are far off while the load engine waits). The rule decides that
    cycle by cycle, from the ready ops actually there."""

    engine: str
    horizon: int = 16
    reach: int = 16


def list_schedule(g: Graph, priority: Sequence | np.ndarray, *, native: bool = True,
                  supply: Supply | None = None, one_order: bool = True) -> np.ndarray:
    """The cycle of each op: each cycle, every engine takes its ready ops of
    lowest priority value (ties in op order) up to its slot limit, those
    `supply` puts first (if given) before the others; an op joined by a
    zero-latency edge may share its predecessor's cycle. With `one_order`
    the cycle's ops go in one priority order across the engines (each engine
    with a free slot offers the op it would take next, and the lowest goes),
    so that an op made ready within the cycle competes with what its engine
    has not taken yet; otherwise engine by engine, in turn, and again while
    any op was placed (backward_schedule: see there). The compiled pass
    runs when it is built (and `native`); the Python one below is the same
    algorithm, step for step."""
    n = g.n
    keys = np.ascontiguousarray(priority, dtype=np.float64).reshape(n)
    if native and compiled.core is not None:
        # (the compiled pass keeps its ready heaps by key and op, which is the
        # order a stable sort gives, without the sort)
        out = np.empty(n, dtype=np.int32)
        extra = () if supply is None else (
            np.asarray(distance_to(g, supply.engine), dtype=np.int32),
            ENGINE_INDEX[supply.engine], supply.horizon, supply.reach)
        try:
            offsets, edges, engines, npred = g.pass_arrays
            compiled.core.schedule(n, offsets, edges, engines, CAPS_ARRAY, npred, keys, out,
                                   one_order, *extra)
        except ValueError:
            raise Cyclic from None
        return out
    order = np.argsort(keys, kind="stable")
    return np.array(_python_pass(g, order.tolist(), supply, one_order), dtype=np.int32)


def _python_pass(g: Graph, order: list[int], supply: Supply | None = None,
                 one_order: bool = True) -> list[int]:
    n = g.n
    rank = [0] * n
    for r, i in enumerate(order):
        rank[i] = r
    succ, engine = g.succ, g.engine
    waiting = list(g.npred)
    # Latencies are 0 or 1, so an op whose last predecessor runs now is ready
    # now, or next cycle if some predecessor joined by latency 1 runs now.
    late = [-1] * n  # the cycle in which a latency-1 predecessor last ran
    cycle_of = [-1] * n
    ready: list[list] = [[] for _ in CAPS]  # ranks, a heap per engine
    # With a supply rule: per engine, (steps, rank) of its ready ops near the
    # supplied engine's; an op placed from one heap stays in the other.
    near: list[list] = [[] for _ in CAPS]
    unplaced = [0] * len(CAPS)  # ready ops per engine
    target, dist, reach = -1, [], 0
    if supply is not None:
        target, reach = ENGINE_INDEX[supply.engine], supply.reach
        dist = distance_to(g, supply.engine)
    push, pop = heapq.heappush, heapq.heappop

    def make_ready(i: int) -> None:
        e = engine[i]
        push(ready[e], rank[i])
        unplaced[e] += 1
        if target >= 0 and e != target and dist[i] <= reach:
            push(near[e], (dist[i], rank[i]))

    for i in range(n):
        if waiting[i] == 0:
            make_ready(i)
    engines = range(len(CAPS))
    following: list[int] = []  # ready from the next cycle on
    done = 0
    now = 0

    def source(e: int) -> list | None:
        """The heap engine e takes its next op from this cycle, placed ops
        dropped from its top: its supply heap when the cycle is short of the
        supplied engine's ops and it holds one, else its ready heap (None
        when that is empty too)."""
        if short_of and e != target:
            nearby = near[e]
            while nearby and cycle_of[order[nearby[0][1]]] >= 0:
                pop(nearby)
            if nearby:
                return nearby
        heap = ready[e]
        while heap and cycle_of[order[heap[0]]] >= 0:
            pop(heap)
        return heap or None

    def place(i: int, e: int) -> None:
        """Op i on engine e now: successors ready now join their heaps, those
        a latency-1 edge from it holds, `following`."""
        nonlocal done
        cycle_of[i] = now
        used[e] += 1
        unplaced[e] -= 1
        done += 1
        for s, lat in succ[i]:
            if lat:
                late[s] = now
            w = waiting[s] - 1
            waiting[s] = w
            if w == 0:
                if late[s] == now:
                    following.append(s)
                else:
                    make_ready(s)

    while done < n:
        for i in following:
            make_ready(i)
        following = []
        used = [0] * len(CAPS)
        short_of = target >= 0 and unplaced[target] < CAPS[target] * supply.horizon
        # The cycle's ops in one priority order across the engines: each
        # engine with a free slot offers the op it would take next (with a
        # supply rule, its nearest first), and the lowest goes; an op made
        # ready within the cycle (a zero-latency edge) competes with what
        # its engine has not taken yet. Engine by engine otherwise.
        while one_order:
            best, best_rank, best_heap = -1, 0, []
            for e in engines:
                heap = source(e) if used[e] < CAPS[e] else None
                if heap is not None and (best < 0 or _rank(heap[0]) < best_rank):
                    best, best_rank, best_heap = e, _rank(heap[0]), heap
            if best < 0:
                break
            pop(best_heap)
            place(order[best_rank], best)
        progressed = not one_order
        while progressed:
            progressed = False
            for e in engines:
                while used[e] < CAPS[e]:
                    heap = source(e)
                    if heap is None:
                        break
                    place(order[_rank(pop(heap))], e)
                    progressed = True
        if done < n:
            if not following and not any(unplaced):
                raise Cyclic
            now += 1
    return cycle_of


def _rank(entry: int | tuple[int, int]) -> int:
    """A heap entry's op rank: a ready heap holds ranks, a supply heap
    (steps, rank) pairs."""
    return entry[1] if type(entry) is tuple else entry


def backward_schedule(g: Graph, priority: Sequence | np.ndarray) -> np.ndarray:
    """List scheduling of the reversed graph, read backwards: every op as late
    as the schedule's length allows (right-justified). Engine by engine: in
    one priority order (list_schedule's `one_order`), the backward passes
    left omkmorendha's kernel 2.7 cycles longer on average (1,694 ->
    1,694-1,704 over 15 runs) and gained nothing anywhere else; forward
    passes carry the whole gain (docs/scheduler.md)."""
    rev = list_schedule(g.reverse, priority, one_order=False)
    return (rev.max() if len(rev) else 0) - rev
