"""A block's dependence graph as flat arrays, and the walks every pass needs.

`Graph` holds a block's dependence graph (asm/sched/deps.py) as NumPy
arrays, with what the passes (asm/sched/listsched.py) and priorities
(asm/sched/priorities.py) need computed once: heights (the longest latency
path from an op to the block's end, the op's own cycle included), releases
(the longest path from the block's start), the reversed graph for backward
passes, and each op's distance to an engine. The walks are compiled
(asm/sched/compiled.py) when the install could build them.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from functools import cached_property
from itertools import chain

import numpy as np

from .. import isa
from . import compiled
from .deps import SYNC, Edges, OpNode, csr_offsets, csr_sources, output_groups

ENGINE_NAMES: tuple[str, ...] = (*isa.ENGINES, SYNC)
CAPS: tuple[int, ...] = tuple(isa.SLOT_LIMITS.get(e, 1 << 30) for e in ENGINE_NAMES)
CAPS_ARRAY = np.array(CAPS, dtype=np.int32)
# Where an edge of `Graph.pass_arrays` carries its latency (LATENCY_BIT in
# asm/sched/_listsched.c).
LATENCY_BIT = 1 << 30
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
        # Values other modules derive from the graph once and keep with it
        # (priorities.by_work), by name; pickled with it.
        self.derived: dict[str, object] = {}
        self.npred = np.bincount(self.targets, minlength=n).astype(np.int32)
        self.order = self._topological()
        # Ops that cost a slot and a cycle (debug ops and sync nodes ride free).
        free = np.isin(self.engine_array, sorted(_FREE))
        self.costly = np.flatnonzero(~free).tolist()
        self._base = (~free).astype(np.int32)  # an op's own cycle, in heights

    @classmethod
    def from_nodes(cls, nodes: Sequence[OpNode]) -> Graph:
        index = ENGINE_INDEX
        engines = [index[x.engine] for x in nodes]
        edges = Edges.of(nodes)
        if edges is not None:  # (a whole built block: its arrays as they are)
            return cls.from_arrays(edges.offsets, edges.targets, edges.lats, engines, nodes)
        sizes = np.fromiter((len(x.succs) for x in nodes), dtype=np.int64, count=len(nodes))
        offsets = np.zeros(len(nodes) + 1, dtype=np.int32)
        offsets[1:] = np.cumsum(sizes)
        m = int(offsets[-1])
        targets = np.fromiter(chain.from_iterable(x.succs for x in nodes), dtype=np.int32,
                              count=m)
        lats = np.fromiter(chain.from_iterable(x.succs.values() for x in nodes),
                           dtype=np.int32, count=m)
        return cls.from_arrays(offsets, targets, lats, engines, nodes)

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
        if compiled.core is not None:
            out = np.empty(self.n, dtype=np.int32)
            placed = compiled.core.topological(self.n, self.offsets, self.targets, self.npred, out)
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
        compiled.core.walk(kind, self.n, self.order_array, self.offsets, self.targets, self.lats,
                           extra, target, out)
        return out.tolist()

    @cached_property
    def order_array(self) -> np.ndarray:
        return np.asarray(self.order, dtype=np.int32)

    @cached_property
    def heights(self) -> list[int]:
        """Cycles from each op's own cycle to the end of the block, at least."""
        if compiled.core is not None:
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

    def ancestors(self, ops: np.ndarray, *, native: bool = True) -> np.ndarray:
        """Whether each op is one of `ops` or leads to one (a bool per op): a
        heights walk in which `ops` start out beyond any path's length
        (compiled when built, and `native`; the Python walk is the same)."""
        far = 1 << 24
        start = np.zeros(self.n, dtype=np.int32)
        start[ops] = far
        if native and compiled.core is not None:
            return np.array(self._walk(0, start), dtype=np.int64) >= far
        reached = start.astype(bool)
        succ = self.succ
        for i in reversed(self.order):
            if not reached[i]:
                reached[i] = any(reached[s] for s, _ in succ[i])
        return reached

    @cached_property
    def releases(self) -> list[int]:
        """The earliest cycle of each op (longest latency path from the start)."""
        if compiled.core is not None:
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
    def pass_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What the compiled pass walks (asm/sched/_listsched.c schedule):
        (offsets, edges, engines, predecessor counts), each edge its target
        with its latency in LATENCY_BIT, and without the edges a path of two
        others implies (a third of fast.vasm's). Without them an op becomes
        ready exactly when it did with them, so every pass gives the same
        cycles, in fewer steps (tests/test_listsched.py compares the compiled pass with
        the Python one, which walks every edge)."""
        keep = np.empty(len(self.targets), dtype=np.int32)
        compiled.core.implied(self.n, self.offsets, self.targets, self.lats, keep)
        kept = keep.astype(bool)
        targets = self.targets[kept]
        offsets = csr_offsets(self.sources[kept], self.n)
        edges = np.ascontiguousarray(targets | self.lats[kept] * LATENCY_BIT, dtype=np.int32)
        npred = np.bincount(targets, minlength=self.n).astype(np.int32)
        return offsets, edges, self.engine_array, npred

    @cached_property
    def sources(self) -> np.ndarray:
        """The op each edge of `flat` leaves from."""
        return csr_sources(self.offsets)

    @cached_property
    def height_array(self) -> np.ndarray:
        return np.array(self.heights, dtype=np.int64)

    @cached_property
    def height_tie(self) -> np.ndarray:
        """Each op's height scaled below one cycle: subtracted from a
        priority in cycles, it puts the taller of two ops first without
        outweighing a cycle."""
        return self.height_array / (self.n + 1)

    @cached_property
    def release_array(self) -> np.ndarray:
        return np.array(self.releases, dtype=np.int64)

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
        count = np.bincount(self.engine_array[self.costly_array],
                            minlength=len(ENGINE_NAMES)).tolist()
        return {ENGINE_NAMES[e]: c / CAPS[e] for e, c in enumerate(count) if c}

    def cost(self, cycle_of: np.ndarray) -> int:
        """The cycles a schedule takes: those with an op that costs one."""
        if not self.costly:
            return 0
        return int(np.count_nonzero(np.bincount(cycle_of[self.costly_array])))


def distance_to(g: Graph, engine: str) -> list[int]:
    """Latency steps from each op down to the nearest op of `engine`."""
    far = 1 << 20
    target = ENGINE_NAMES.index(engine)
    if compiled.core is not None:
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

