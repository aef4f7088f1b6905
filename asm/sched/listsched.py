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
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain

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
ENGINE_INDEX = {e: i for i, e in enumerate(ENGINE_NAMES)}  # engine name -> index


class Cyclic(Exception):
    """The block's constraints form a cycle (a jump written in a bundle whose
    other ops write what it reads): it can only stay as written."""


class Graph:
    """A block's ops and dependences as arrays, indexed by op position: each
    op's successors and latencies in CSR form (`offsets`, `targets`, `lats`,
    NumPy int32), and `engine`, each op's index into ENGINE_NAMES."""

    def __init__(self, succ: Sequence[Sequence[tuple[int, int]]], engine: Sequence[int],
                 nodes: Sequence[OpNode] | None = None, forward: Graph | None = None) -> None:
        n = len(engine)
        offsets = np.zeros(n + 1, dtype=np.int32)
        offsets[1:] = np.cumsum([len(e) for e in succ])
        pairs = np.array([pair for edges in succ for pair in edges],
                         dtype=np.int32).reshape(-1, 2)
        self._arrays(offsets, pairs[:, 0], pairs[:, 1], engine, nodes, forward)
        self.__dict__["succ"] = [tuple(map(tuple, e)) for e in succ]

    @classmethod
    def from_arrays(cls, offsets: np.ndarray, targets: np.ndarray, lats: np.ndarray,
                    engine: Sequence[int], nodes: Sequence[OpNode] | None = None,
                    forward: Graph | None = None, keep: np.ndarray | None = None) -> Graph:
        """`nodes`: the ops the graph was built from, if known; `keep`: which
        of them it holds, when not all (asm/sched/debugops.py)."""
        g = cls.__new__(cls)
        g._arrays(offsets, targets, lats, engine, nodes, forward)
        g._keep = keep
        return g

    def _arrays(self, offsets, targets, lats, engine, nodes, forward) -> None:
        self.n = n = len(engine)
        self.offsets = np.ascontiguousarray(offsets, dtype=np.int32)
        self.targets = np.ascontiguousarray(targets, dtype=np.int32)
        self.lats = np.ascontiguousarray(lats, dtype=np.int32)
        self.engine = list(engine)
        self.engine_array = np.asarray(self.engine, dtype=np.int32).reshape(n)
        assert np.isin(self.lats, (0, 1)).all(), "list_schedule relies on latencies of 0 or 1"
        self._nodes = nodes  # what the graph was built from, if known
        # For a reversed graph: the graph it reverses, which caches it (held
        # weakly, so that the two make no reference cycle).
        self._forward = None if forward is None else weakref.ref(forward)
        self._keep = None  # (from_arrays may say otherwise)
        self.npred = np.bincount(self.targets, minlength=n).astype(np.int32)
        self.order = self._topological()
        # Ops that cost a slot and a cycle (debug ops and sync nodes ride free).
        free = np.isin(self.engine_array, sorted(_FREE))
        self.costly = np.flatnonzero(~free).tolist()
        self._base = (~free).astype(np.int32)  # an op's own cycle, in heights

    @classmethod
    def from_nodes(cls, nodes: Sequence[OpNode]) -> Graph:
        sizes = np.fromiter((len(x.succs) for x in nodes), dtype=np.int64, count=len(nodes))
        offsets = np.zeros(len(nodes) + 1, dtype=np.int32)
        offsets[1:] = np.cumsum(sizes)
        m = int(offsets[-1])
        targets = np.fromiter(chain.from_iterable(x.succs for x in nodes), dtype=np.int32,
                              count=m)
        lats = np.fromiter(chain.from_iterable(x.succs.values() for x in nodes),
                           dtype=np.int32, count=m)
        index = ENGINE_INDEX
        return cls.from_arrays(offsets, targets, lats, [index[x.engine] for x in nodes], nodes)

    def __getstate__(self) -> dict:
        # (-O3's worker processes get the graph pickled: the nodes it was built
        # from hold the ISA table's functions, and the search there needs none)
        state = dict(self.__dict__)
        state["_nodes"] = None
        state["_forward"] = None  # (a weak reference; __setstate__ makes it again)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        reverse = state.get("reverse")
        if reverse is not None:
            reverse._forward = weakref.ref(self)

    @cached_property
    def succ(self) -> list[tuple[tuple[int, int], ...]]:
        """Per op: ((successor, latency), ...), for the Python passes."""
        o, t, lat = self.offsets.tolist(), self.targets.tolist(), self.lats.tolist()
        return [tuple(zip(t[o[i]:o[i + 1]], lat[o[i]:o[i + 1]], strict=True))
                for i in range(self.n)]

    @cached_property
    def groups(self) -> np.ndarray | None:
        """Each op's output group (deps.output_groups), -1 for none; None when
        the graph was not built from nodes. Made when a search asks for it."""
        if self._forward is not None:
            forward = self._forward()
            return None if forward is None else forward.groups
        if self._nodes is None:
            return None
        # (a debug op only reads: the groups of the others are the same without it)
        groups = np.asarray(output_groups(self._nodes), dtype=np.int64)
        return groups if self._keep is None else groups[self._keep]

    def _topological(self) -> list[int]:
        """Kahn's order, the ready ops kept as a stack."""
        if _native is not None:
            out = np.empty(self.n, dtype=np.int32)
            placed = _native.topological(self.n, self.offsets, self.targets, self.npred, out)
            if placed != self.n:
                raise Cyclic
            return out.tolist()
        waiting = self.npred.tolist()
        ready = [i for i in range(self.n) if waiting[i] == 0]
        order = []
        succ = self.succ
        while ready:
            i = ready.pop()
            order.append(i)
            for s, _ in succ[i]:
                waiting[s] -= 1
                if waiting[s] == 0:
                    ready.append(s)
        if len(order) != self.n:
            raise Cyclic
        return order

    def _walk(self, kind: int, extra: np.ndarray, target: int = -1) -> list[int]:
        out = np.empty(self.n, dtype=np.int32)
        _native.walk(kind, self.n, self.order_array, self.offsets, self.targets, self.lats,
                     extra, target, out)
        return out.tolist()

    @cached_property
    def order_array(self) -> np.ndarray:
        return np.asarray(self.order, dtype=np.int32)

    @cached_property
    def heights(self) -> list[int]:
        """Cycles from each op's own cycle to the end of the block, at least."""
        if _native is not None:
            return self._walk(0, self._base)
        h = [0] * self.n
        succ, base = self.succ, self._base.tolist()
        for i in reversed(self.order):
            best = base[i]
            for s, lat in succ[i]:
                v = h[s] + lat
                if v > best:
                    best = v
            h[i] = best
        return h

    @cached_property
    def releases(self) -> list[int]:
        """The earliest cycle of each op (longest latency path from the start)."""
        if _native is not None:
            return self._walk(1, self._base)
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
        return self.offsets, self.targets, self.lats, self.engine_array, self.npred

    @cached_property
    def sources(self) -> np.ndarray:
        """The op each edge of `flat` leaves from."""
        return np.repeat(np.arange(self.n, dtype=np.int32), np.diff(self.offsets))

    @cached_property
    def height_array(self) -> np.ndarray:
        return np.array(self.heights, dtype=np.int64)

    @cached_property
    def costly_array(self) -> np.ndarray:
        return np.array(self.costly, dtype=np.int64)

    @cached_property
    def reverse(self) -> Graph:
        """The same ops with every edge turned round (backward scheduling);
        each op's edges in the order of the ops they come from."""
        by_target = np.argsort(self.targets, kind="stable")
        offsets = np.zeros(self.n + 1, dtype=np.int32)
        offsets[1:] = np.cumsum(self.npred)
        return Graph.from_arrays(offsets, self.sources[by_target], self.lats[by_target],
                                 self.engine, forward=self)

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
                  supply: Supply | None = None) -> np.ndarray:
    """The cycle of each op: each cycle, every engine takes its ready ops of
    lowest priority value (ties in op order) up to its slot limit, those
    `supply` puts first (if given) before the others; an op joined by a
    zero-latency edge may share its predecessor's cycle. The compiled pass
    runs when it is built (and `native`); the Python one below is the same
    algorithm, step for step."""
    n = g.n
    keys = np.ascontiguousarray(priority, dtype=np.float64).reshape(n)
    if native and _native is not None:
        # (the compiled pass keeps its ready heaps by key and op, which is the
        # order a stable sort gives, without the sort)
        out = np.empty(n, dtype=np.int32)
        extra = () if supply is None else (
            np.asarray(distance_to(g, supply.engine), dtype=np.int32),
            ENGINE_INDEX[supply.engine], supply.horizon, supply.reach)
        try:
            _native.schedule(n, *g.flat[:4], _CAPS_ARRAY, g.flat[4], keys, out, *extra)
        except ValueError:
            raise Cyclic from None
        return out
    order = np.argsort(keys, kind="stable")
    return np.array(_python_pass(g, order.tolist(), supply), dtype=np.int32)


def _python_pass(g: Graph, order: list[int], supply: Supply | None = None) -> list[int]:
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
    while done < n:
        for i in following:
            make_ready(i)
        following = []
        used = [0] * len(CAPS)
        short_of = target >= 0 and unplaced[target] < CAPS[target] * supply.horizon
        progressed = True
        while progressed:
            progressed = False
            for e in engines:
                heap = ready[e]
                cap = CAPS[e]
                while used[e] < cap:
                    i = -1
                    if short_of and e != target:
                        nearby = near[e]
                        while nearby and i < 0:
                            j = order[pop(nearby)[1]]
                            if cycle_of[j] < 0:
                                i = j
                    while heap and i < 0:
                        j = order[pop(heap)]
                        if cycle_of[j] < 0:
                            i = j
                    if i < 0:
                        break
                    cycle_of[i] = now
                    used[e] += 1
                    unplaced[e] -= 1
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
                                make_ready(s)
        if done < n:
            if not following and not any(unplaced):
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
    if _native is not None:
        return g._walk(2, g.engine_array, target)
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


def downstream_work(g: Graph, weights: dict[str, float], *, native: bool = True
                    ) -> list[float]:
    """For each op, the weighted count of the ops that depend on it (directly
    or not), per engine: an op that gates much work on busy engines goes
    first. Exact (bit sets) up to a size, compiled when built (and `native`);
    beyond it, the sum over successors (which counts shared descendants more
    than once)."""
    n = g.n
    w = [weights.get(ENGINE_NAMES[e], 0.0) for e in range(len(ENGINE_NAMES))]
    own = [w[g.engine[i]] for i in range(n)]
    out = [0.0] * n
    if n <= EXACT_WORK_LIMIT and native and _native is not None:
        # (engines in the order of their first op, as the sum below takes them)
        engines = list(dict.fromkeys(g.engine[i] for i in range(n) if own[i]))
        result = np.empty(n, dtype=np.float64)
        _native.work(n, g.order_array, g.offsets, g.targets, g.npred, g.engine_array,
                     np.array(w, dtype=np.float64), np.array(engines, dtype=np.int32), result)
        return result.tolist()
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
    if native and _native is not None:
        result = np.empty(n, dtype=np.float64)
        _native.summed(n, g.order_array, g.offsets, g.targets, g.engine_array,
                       np.array(w, dtype=np.float64), result)
        return result.tolist()
    succ = g.succ
    for i in reversed(g.order):
        total = 0.0  # (added one by one, in edge order, as the compiled sum does)
        for s, _ in succ[i]:
            total += out[s] + own[s]
        out[i] = total
    return out


EXACT_WORK_LIMIT = 30_000
WORK_WITHIN = 0.5  # engines counted in by_work: at least this share of the busiest's load


def by_work(g: Graph) -> np.ndarray:
    """Downstream work weighted by how busy each engine is (its load relative
    to the busiest engine's), per slot; then height. Made once per graph
    (several starts build on it), so read-only."""
    made = g.__dict__.get("_by_work")
    if made is not None:
        return made
    load = g.load()
    top = max(load.values(), default=1.0)
    # (light engines would add little but the cost of counting them)
    weights = {e: (v / top) / isa.SLOT_LIMITS[e] for e, v in load.items()
               if v >= WORK_WITHIN * top}
    work = np.array(downstream_work(g, weights))
    made = g.__dict__["_by_work"] = -work - g.height_array / (g.n + 1)
    made.setflags(write=False)
    return made


def supplying(g: Graph, engine: str) -> np.ndarray:
    """The order of a pass by downstream work (by_work) that keeps `engine`
    supplied (Supply), as a priority: where several engines are near
    saturation, a start that hands work from one to another as it runs."""
    return following(g, list_schedule(g, by_work(g), supply=Supply(engine)), backward=False)


def bottlenecks(g: Graph, within: float = 0.8) -> list[str]:
    """Engines whose ops need at least `within` of the busiest engine's cycles."""
    load = g.load()
    top = max(load.values(), default=0)
    return [e for e, v in load.items() if v >= within * top] if top else []
