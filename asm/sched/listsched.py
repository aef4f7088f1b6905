"""List scheduling passes over one block's dependence graph.

`Graph` holds a block's dependence graph (asm/sched/deps.py) as flat arrays, with
what every pass needs computed once: heights (the longest latency path from
an op to the block's end, the op's own cycle included), releases (the
longest path from the block's start) and the reversed graph for backward
passes. A pass takes a priority, one number per op (lower goes first, ties
in op order), and returns the cycle of every op (a NumPy array): cycle-driven
list scheduling with one ready heap per engine, so that a full engine costs
nothing to skip. With unit-time ops, some priority yields an optimal
schedule; the search (asm/sched/search.py) looks for it. The pass is compiled
(asm/sched/_listsched.c) when the install could build it; the Python version here
is the same algorithm step for step.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from .. import isa
from .deps import SYNC, OpNode, output_groups

try:  # the compiled pass (asm/sched/_listsched.c), when the install could build it
    from . import _listsched as _native
except ImportError:  # pragma: no cover - depends on the install
    _native = None

ENGINE_NAMES: tuple[str, ...] = (*isa.ENGINES, SYNC)
CAPS: tuple[int, ...] = tuple(isa.SLOT_LIMITS.get(e, 1 << 30) for e in ENGINE_NAMES)
_CAPS_ARRAY = np.array(CAPS, dtype=np.int32)
_FREE = frozenset(ENGINE_NAMES.index(e) for e in (*isa.FREE_ENGINES, SYNC))


class Cyclic(Exception):
    """The block's constraints form a cycle (a jump written in a bundle whose
    other ops write what it reads): it can only stay as written."""


class Graph:
    """A block's ops and dependences as arrays, indexed by op position."""

    def __init__(self, succ: list[tuple[tuple[int, int], ...]], engine: list[int],
                 nodes: Sequence[OpNode] | None = None, forward: Graph | None = None) -> None:
        self.n = len(engine)
        self.succ = succ  # per op: ((successor, latency), ...)
        self.engine = engine  # per op: index into ENGINE_NAMES
        self._nodes = nodes  # what the graph was built from, if known
        self._forward = forward  # for a reversed graph: the graph it reverses
        self.npred = [0] * self.n
        for edges in succ:
            for s, lat in edges:
                self.npred[s] += 1
                assert lat in (0, 1), "list_schedule relies on latencies of 0 or 1"
        self.order = self._topological()
        # Ops that cost a slot and a cycle (debug ops and sync nodes ride free).
        self.costly = [i for i in range(self.n) if engine[i] not in _FREE]

    @classmethod
    def from_nodes(cls, nodes: Sequence[OpNode]) -> Graph:
        return cls([tuple(x.succs.items()) for x in nodes],
                   [ENGINE_NAMES.index(x.engine) for x in nodes], nodes)

    def __getstate__(self) -> dict:
        # (-O3's worker processes get the graph pickled: the nodes it was built
        # from hold the ISA table's functions, and the search there needs none)
        state = dict(self.__dict__)
        state["_nodes"] = None
        return state

    @cached_property
    def groups(self) -> np.ndarray | None:
        """Each op's output group (deps.output_groups), -1 for none; None when
        the graph was not built from nodes. Made when a search asks for it."""
        if self._forward is not None:
            return self._forward.groups
        if self._nodes is None:
            return None
        return np.asarray(output_groups(self._nodes), dtype=np.int64)

    def _topological(self) -> list[int]:
        waiting = list(self.npred)
        ready = [i for i in range(self.n) if waiting[i] == 0]
        order = []
        while ready:
            i = ready.pop()
            order.append(i)
            for s, _ in self.succ[i]:
                waiting[s] -= 1
                if waiting[s] == 0:
                    ready.append(s)
        if len(order) != self.n:
            raise Cyclic
        return order

    @cached_property
    def heights(self) -> list[int]:
        """Cycles from each op's own cycle to the end of the block, at least."""
        h = [0] * self.n
        succ, engine = self.succ, self.engine
        for i in reversed(self.order):
            best = 0 if engine[i] in _FREE else 1
            for s, lat in succ[i]:
                v = h[s] + lat
                if v > best:
                    best = v
            h[i] = best
        return h

    @cached_property
    def releases(self) -> list[int]:
        """The earliest cycle of each op (longest latency path from the start)."""
        r = [0] * self.n
        succ = self.succ
        for i in self.order:
            ri = r[i]
            for s, lat in succ[i]:
                if ri + lat > r[s]:
                    r[s] = ri + lat
        return r

    @cached_property
    def flat(self) -> tuple[np.ndarray, ...]:
        """(offsets, successors, latencies, engines, predecessor counts) as C
        int arrays, for the compiled pass and NumPy."""
        offsets = np.zeros(self.n + 1, dtype=np.int32)
        offsets[1:] = np.cumsum([len(e) for e in self.succ])
        pairs = [pair for edges in self.succ for pair in edges]
        edges = np.array(pairs, dtype=np.int32).reshape(-1, 2)
        return (offsets, np.ascontiguousarray(edges[:, 0]), np.ascontiguousarray(edges[:, 1]),
                np.array(self.engine, dtype=np.int32), np.array(self.npred, dtype=np.int32))

    @cached_property
    def sources(self) -> np.ndarray:
        """The op each edge of `flat` leaves from."""
        offsets = self.flat[0]
        return np.repeat(np.arange(self.n, dtype=np.int32), np.diff(offsets))

    @cached_property
    def height_array(self) -> np.ndarray:
        return np.array(self.heights, dtype=np.int64)

    @cached_property
    def costly_array(self) -> np.ndarray:
        return np.array(self.costly, dtype=np.int64)

    @cached_property
    def reverse(self) -> Graph:
        """The same ops with every edge turned round (backward scheduling)."""
        pred: list[list[tuple[int, int]]] = [[] for _ in range(self.n)]
        for i, edges in enumerate(self.succ):
            for s, lat in edges:
                pred[s].append((i, lat))
        return Graph([tuple(p) for p in pred], self.engine, forward=self)

    def ops_of(self, engine: str) -> list[int]:
        e = ENGINE_NAMES.index(engine)
        return [i for i in range(self.n) if self.engine[i] == e]

    def load(self) -> dict[str, float]:
        """Cycles each engine needs for its ops alone (ops / slots)."""
        count = [0] * len(ENGINE_NAMES)
        for i in self.costly:
            count[self.engine[i]] += 1
        return {ENGINE_NAMES[e]: c / CAPS[e] for e, c in enumerate(count) if c}

    def cost(self, cycle_of: np.ndarray) -> int:
        """The cycles a schedule takes: those with an op that costs one."""
        if not self.costly:
            return 0
        return int(np.count_nonzero(np.bincount(cycle_of[self.costly_array])))


def list_schedule(g: Graph, priority: Sequence | np.ndarray, *, native: bool = True
                  ) -> np.ndarray:
    """The cycle of each op: each cycle, every engine takes its ready ops of
    lowest priority value (ties in op order) up to its slot limit; an op
    joined by a zero-latency edge may share its predecessor's cycle. The
    compiled pass runs when it is built (and `native`); the Python one below
    is the same algorithm, step for step."""
    n = g.n
    order = np.argsort(np.asarray(priority), kind="stable").astype(np.int32)
    if native and _native is not None:
        out = np.empty(n, dtype=np.int32)
        try:
            _native.schedule(n, *g.flat[:4], _CAPS_ARRAY, g.flat[4], order, out)
        except ValueError:
            raise Cyclic from None
        return out
    return np.array(_python_pass(g, order.tolist()), dtype=np.int32)


def _python_pass(g: Graph, order: list[int]) -> list[int]:
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
    ready: list[list[int]] = [[] for _ in CAPS]  # ranks, a heap per engine
    for i in range(n):
        if waiting[i] == 0:
            ready[engine[i]].append(rank[i])
    for heap in ready:
        heapq.heapify(heap)
    push, pop = heapq.heappush, heapq.heappop
    engines = range(len(CAPS))
    following: list[int] = []  # ready from the next cycle on
    done = 0
    now = 0
    while done < n:
        for i in following:
            push(ready[engine[i]], rank[i])
        following = []
        used = [0] * len(CAPS)
        progressed = True
        while progressed:
            progressed = False
            for e in engines:
                heap = ready[e]
                if not heap:
                    continue
                cap = CAPS[e]
                u = used[e]
                while heap and u < cap:
                    i = order[pop(heap)]
                    cycle_of[i] = now
                    u += 1
                    done += 1
                    progressed = True
                    for s, lat in succ[i]:
                        if lat:
                            late[s] = now
                        w = waiting[s] - 1
                        waiting[s] = w
                        if w == 0:
                            if late[s] == now:
                                following.append(s)
                            else:
                                push(ready[engine[s]], rank[s])
                used[e] = u
        if done < n:
            if not following and not any(ready):
                raise Cyclic
            now += 1
    return cycle_of


def backward_schedule(g: Graph, priority: Sequence | np.ndarray) -> np.ndarray:
    """List scheduling of the reversed graph, read backwards: every op as late
    as the schedule's length allows (right-justified)."""
    rev = list_schedule(g.reverse, priority)
    return (rev.max() if len(rev) else 0) - rev


# ---------------------------------------------------------------- priorities
# Each returns one number per op for list_schedule (lower first). Heights are
# at most a block's op count, so `a * g.n + b` orders by a, then by b.


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


def distance_to(g: Graph, engine: str) -> list[int]:
    """Latency steps from each op down to the nearest op of `engine`."""
    far = 1 << 20
    target = ENGINE_NAMES.index(engine)
    d = [far] * g.n
    succ, eng = g.succ, g.engine
    for i in reversed(g.order):
        if eng[i] == target:
            d[i] = 0
            continue
        best = far
        for s, lat in succ[i]:
            v = d[s] + (lat or 1)
            if v < best:
                best = v
        d[i] = best
    return d


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


def downstream_work(g: Graph, weights: dict[str, float]) -> list[float]:
    """For each op, the weighted count of the ops that depend on it (directly
    or not), per engine: an op that gates much work on busy engines goes
    first. Exact (bit sets) up to a size; beyond it, the sum over successors
    (which counts shared descendants more than once)."""
    n = g.n
    w = [weights.get(ENGINE_NAMES[e], 0.0) for e in range(len(ENGINE_NAMES))]
    own = [w[g.engine[i]] for i in range(n)]
    succ = g.succ
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
        unread = list(g.npred)
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
    for i in reversed(g.order):
        out[i] = sum(out[s] + own[s] for s, _ in succ[i])
    return out


EXACT_WORK_LIMIT = 30_000
WORK_WITHIN = 0.5  # engines counted in by_work: at least this share of the busiest's load


def by_work(g: Graph, power: float = 1.0) -> np.ndarray:
    """Downstream work weighted by how busy each engine is (its load relative
    to the busiest engine's, to `power`), per slot; then height."""
    load = g.load()
    top = max(load.values(), default=1.0)
    # (light engines would add little but the cost of counting them)
    weights = {e: (v / top) ** power / isa.SLOT_LIMITS[e] for e, v in load.items()
               if v >= WORK_WITHIN * top}
    work = np.array(downstream_work(g, weights))
    return -work - g.height_array / (g.n + 1)


def bottlenecks(g: Graph, within: float = 0.8) -> list[str]:
    """Engines whose ops need at least `within` of the busiest engine's cycles."""
    load = g.load()
    top = max(load.values(), default=0)
    return [e for e, v in load.items() if v >= within * top] if top else []
