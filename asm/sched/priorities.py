"""Priorities for list scheduling (asm/sched/listsched.py): each returns one
number per op of a graph, lower first. Heights are at most a block's op
count, so `a * g.n + b` orders by a, then by b.
"""

from __future__ import annotations

import numpy as np

from .. import isa
from . import compiled
from .graph import ENGINE_NAMES, LATENCY_BIT, Graph, distance_to
from .listsched import Supply, list_schedule
from .tuning import TUNING


def by_height(g: Graph) -> np.ndarray:
    """The critical-path priority: the longest path to the end first."""
    return -g.height_array


def in_order(g: Graph) -> np.ndarray:
    """Program order: greedy in-order issue that fills slots with whatever
    later op is ready (on a source written chain by chain, early chains run
    ahead and the phases of chains overlap)."""
    return np.arange(g.n)


def following(g: Graph, cycle_of: np.ndarray, *, backward: bool) -> np.ndarray:
    """The order of an earlier schedule (its cycles), ties by height: a
    forward pass after a backward one, or the other way round."""
    c = cycle_of.astype(np.int64) * g.n
    if backward:  # for the reversed graph: latest first, ties by its own heights
        return -c - g.reverse.height_array
    return c - g.height_array


def feeding(g: Graph, engine: str) -> np.ndarray:
    """Ops closest to `engine`'s next op first, then by height: when two
    engines are nearly saturated, height alone moves every chain in lockstep
    (all hashing, then all loading); feeding one engine staggers them."""
    return np.array(distance_to(g, engine), dtype=np.int64) * g.n - g.height_array


def group_ranks(g: Graph) -> tuple[np.ndarray, int]:
    """(each op's output group as a rank 0..k-1, -1 for none; k)."""
    if g.groups is None:
        return np.full(g.n, -1, dtype=np.int64), 0
    kinds, rank = np.unique(g.groups, return_inverse=True)
    if len(kinds) and kinds[0] < 0:  # -1 sorts first: ranks start after it
        return rank - 1, len(kinds) - 1
    return rank, len(kinds)


def group_count(g: Graph) -> int:
    return group_ranks(g)[1]


def staggered(g: Graph, fraction: float, bound: int) -> np.ndarray:
    """Height, with the output groups (deps.output_groups) started one after
    another: group k's ops wait k steps, a step being `fraction` of the slack
    each group has (the tight bound less the critical path, shared among the
    groups; `bound`: the block's). When rounds of a kernel differ in engine mix (gathers in some,
    vselects or hashing in others), groups in lockstep crowd one engine at a
    time and leave a tail of lone chains at the end; staggered, their phases
    overlap, as authors of tight kernels arrange by hand."""
    rank, count = group_ranks(g)
    crit = int(g.height_array.max(initial=0))
    step = fraction * max(0, bound - crit) / max(1, count - 1)
    return -g.height_array + np.where(rank >= 0, rank * step, 0.0)


EXACT_WORK_LIMIT = 30_000  # ops: past it, downstream work is summed, not exact


def downstream_work(g: Graph, weights: dict[str, float], *, native: bool = True
                    ) -> list[float]:
    """For each op, the weighted count of the ops that depend on it (directly
    or not), per engine: an op that gates much work on busy engines goes
    first. Exact (bit sets) up to a size, compiled when built (and `native`);
    beyond it, the sum over successors (which counts shared descendants more
    than once)."""
    n = g.n
    w = [weights.get(ENGINE_NAMES[e], 0.0) for e in range(len(ENGINE_NAMES))]
    if n <= EXACT_WORK_LIMIT and native and compiled.core is not None:
        # (engines in the order of their first op, as the sum below takes them)
        weighted = np.flatnonzero(np.array(w)[g.engine_array])
        kinds, first = np.unique(g.engine_array[weighted], return_index=True)
        engines = kinds[np.argsort(first)].tolist()
        result = np.empty(n, dtype=np.float64)
        # (over the pass's edges: without those a path of two implies, every
        # op has the same descendants, and a third fewer sets are joined)
        offsets, edges, _, npred = g.pass_arrays
        targets = np.ascontiguousarray(edges & ~LATENCY_BIT)
        compiled.core.work(n, g.order_array, offsets, targets, npred, g.engine_array,
                           np.array(w, dtype=np.float64), np.array(engines, dtype=np.int32), result)
        return result.tolist()
    own = [w[g.engine[i]] for i in range(n)]
    out = [0.0] * n
    if n <= EXACT_WORK_LIMIT:
        masks: dict[int, int] = {}
        for i in range(n):
            if own[i]:
                masks[g.engine[i]] = masks.get(g.engine[i], 0) | (1 << i)
        weighted = [(w[e], m) for e, m in masks.items()]
        # Bit sets of each op and everything below it, dropped once the last
        # predecessor that needs one is done.
        closure: list[int] = [0] * n
        unread = g.npred.tolist()
        succ = g.succ
        for i in reversed(g.order):
            d = 0
            for s, _ in succ[i]:
                d |= closure[s]
                unread[s] -= 1
                if not unread[s]:
                    closure[s] = 0
            out[i] = sum(x * (d & m).bit_count() for x, m in weighted)
            closure[i] = d | (1 << i)
        return out
    if native and compiled.core is not None:
        result = np.empty(n, dtype=np.float64)
        compiled.core.summed(n, g.order_array, g.offsets, g.targets, g.engine_array,
                             np.array(w, dtype=np.float64), result)
        return result.tolist()
    succ = g.succ
    for i in reversed(g.order):
        total = 0.0  # (added one by one, in edge order, as the compiled sum does)
        for s, _ in succ[i]:
            total += out[s] + own[s]
        out[i] = total
    return out


def by_work(g: Graph) -> np.ndarray:
    """Downstream work weighted by how busy each engine is (its load relative
    to the busiest engine's), per slot; then height. Made once per graph
    (several starts build on it; kept in its `derived`), so read-only."""
    made = g.derived.get("by_work")
    if made is not None:
        return made
    load = g.load()
    top = max(load.values(), default=1.0)
    # (light engines would add little but the cost of counting them)
    weights = {e: (v / top) / isa.SLOT_LIMITS[e] for e, v in load.items()
               if v >= TUNING.work_within * top}
    made = -np.array(downstream_work(g, weights)) - g.height_tie
    made.setflags(write=False)
    g.derived["by_work"] = made
    return made


def supplying(g: Graph, engine: str) -> np.ndarray:
    """The order of a pass by downstream work (by_work) that keeps `engine`
    supplied (Supply), as a priority: where several engines are near
    saturation, a start that hands work from one to another as it runs."""
    return following(g, list_schedule(g, by_work(g), supply=Supply(engine)), backward=False)


def bottlenecks(g: Graph, within: float = TUNING.busy_within) -> list[str]:
    """Engines whose ops need at least `within` of the busiest engine's cycles."""
    load = g.load()
    top = max(load.values(), default=0)
    return [e for e, v in load.items() if v >= within * top] if top else []
