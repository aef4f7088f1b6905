"""Debug ops outside the search: a block is scheduled without them, and they
are placed afterwards.

A debug op (a `compare`, a comment) costs no slot and no cycle; all that ties
it down is its dependences: after the write of each word it reads, no later
than the next write of it, before the block's jump. In kernels that keep their
debug compares they can be most of a block (45,057 of pramodith's 64,350
ops), and every pass of the list scheduler would walk them. So the graph the
search schedules leaves them out, with each one's constraints passing through
it as edges from its predecessors to its successors (latencies added: the
write and the next write stay a cycle apart, the write and the jump too).
Afterwards each takes the earliest cycle its predecessors allow that has a
debug slot free, which its successors then allow too: the schedule has the
same cycles, and no constraint of the block is lost.

A debug op is left in the graph when a path through it would add up to a
latency the scheduler does not model (more than 1), or when it is tied to
another debug op (chains of them stay whole).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import isa
from .deps import Edges, OpNode, csr_offsets, one_per_pair, predecessors
from .graph import ENGINE_INDEX, Graph

DEBUG_SLOTS = isa.SLOT_LIMITS["debug"]  # per bundle: the linter warns past it


class BlockGraph:
    """The graph a block's search schedules (`graph`), and the way back from its
    cycles to a cycle for every op of the block (`cycles`)."""

    def __init__(self, nodes: Sequence[OpNode]) -> None:
        self.nodes = nodes
        debug = [x.index for x in nodes if x.engine == "debug"]
        # (predecessors of the debug ops alone: the others' are not needed)
        self.preds = predecessors(nodes, debug) if debug else {}
        aside = [x.engine == "debug" and _rides_free(x, self.preds[x.index], nodes)
                 for x in nodes]
        self.aside = [x for x, out in zip(nodes, aside, strict=True) if out]
        if not self.aside:
            self.keep = None
            self.graph = Graph.from_nodes(nodes)
            return
        keep = [x.index for x, out in zip(nodes, aside, strict=True) if not out]
        self.keep = np.asarray(keep, dtype=np.int64)
        engines = [ENGINE_INDEX[nodes[old].engine] for old in keep]
        edges = Edges.of(nodes)
        if edges is not None:  # (the block's arrays: the same graph, made with NumPy)
            arrays = _passed_through(edges, np.asarray(aside, dtype=bool))
            self.graph = Graph.from_arrays(*arrays, engines, nodes, keep=self.keep)
            return
        new = {old: i for i, old in enumerate(keep)}
        offsets = [0]
        targets: list[int] = []
        lats: list[int] = []
        for old in keep:
            out: dict[int, int] = {}
            for s, lat in nodes[old].succs.items():
                if aside[s]:
                    for v, more in nodes[s].succs.items():
                        t = new[v]
                        if out.get(t, -1) < lat + more:
                            out[t] = lat + more
                else:
                    t = new[s]
                    if out.get(t, -1) < lat:
                        out[t] = lat
            targets.extend(out)
            lats.extend(out.values())
            offsets.append(len(targets))
        self.graph = Graph.from_arrays(
            np.asarray(offsets, dtype=np.int32), np.asarray(targets, dtype=np.int32),
            np.asarray(lats, dtype=np.int32), engines, nodes, keep=self.keep)

    @property
    def graph_nodes(self) -> Sequence[OpNode]:
        """The nodes of `graph`'s ops, in its order."""
        if self.keep is None:
            return self.nodes
        return [self.nodes[i] for i in self.keep.tolist()]

    def cycles(self, cycle_of: np.ndarray) -> np.ndarray:
        """A cycle for every op of the block, from the cycles of `graph`'s (a
        fraction: a bundle of debug ops between two cycles, which costs none)."""
        if self.keep is None:
            return cycle_of
        full = np.full(len(self.nodes), -1, dtype=np.int64)
        full[self.keep] = cycle_of
        used: dict[int, int] = {}  # debug ops per cycle (those the search placed first)
        for i in self.keep.tolist():
            if self.nodes[i].engine == "debug":
                used[int(full[i])] = used.get(int(full[i]), 0) + 1
        extra: dict[int, int] = {}  # ops in bundles of their own before each cycle's
        out = full.astype(np.float64)
        for x in self.aside:
            first = max((int(full[p]) + lat for p, lat in self.preds[x.index].items()),
                        default=0)
            last = min((int(full[s]) - lat for s, lat in x.succs.items()), default=first)
            at = first
            while used.get(at, 0) >= DEBUG_SLOTS and at < last:
                at += 1
            if used.get(at, 0) < DEBUG_SLOTS:
                used[at] = used.get(at, 0) + 1
                out[x.index] = at
            else:
                # Every cycle it may take is full: a bundle of debug ops of its
                # own just before cycle `first`'s reads what that one reads,
                # and costs no cycle.
                k = extra.get(first, 0)
                extra[first] = k + 1
                out[x.index] = first - 1 / (k // DEBUG_SLOTS + 2)
        return out


def _passed_through(edges: Edges, aside: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets, targets, lats) of the graph without the ops `aside`, each
    edge into one of them joined to each edge out of it (latencies added):
    what BlockGraph's loop makes, in its order (each op's successors as they
    come, an op aside standing for its own successors in its place; each pair
    once, at its largest latency, where it first came)."""
    n = len(aside)
    off, dst, lat = (a.astype(np.int64) for a in (edges.offsets, edges.targets, edges.lats))
    src = np.repeat(np.arange(n, dtype=np.int64), np.diff(off))
    kept = ~aside[src]  # (edges out of ops aside are reached through their predecessors)
    through = kept & aside[dst]
    direct = np.flatnonzero(kept & ~through)
    into = np.flatnonzero(through)
    # Each edge into an op aside, once per edge out of it: (that edge, the other).
    counts = off[dst[into] + 1] - off[dst[into]]
    first = np.repeat(into, counts)
    second = np.repeat(off[dst[into]] - np.cumsum(counts) + counts, counts) + np.arange(
        int(counts.sum()), dtype=np.int64)
    u = np.concatenate([src[direct], src[first]])
    t = np.concatenate([dst[direct], dst[second]])
    w = np.concatenate([lat[direct], lat[first] + lat[second]])
    # The loop's order: by the edge out of u, then the one out of the op
    # aside (none for a direct edge).
    came = np.concatenate([direct * (len(dst) + 1), first * (len(dst) + 1) + second + 1])
    u, t, w = one_per_pair(u, t, w, came)
    renumbered = np.cumsum(~aside) - 1  # an op's index among those kept
    u, t = renumbered[u], renumbered[t]
    return csr_offsets(u, int((~aside).sum())), t.astype(np.int32), w.astype(np.int32)


def _rides_free(x: OpNode, preds: dict[int, int], nodes: Sequence[OpNode]) -> bool:
    """Whether debug op `x` (its predecessors `preds`) can leave the graph (see
    the module's docstring)."""
    if any(nodes[p].engine == "debug" for p in preds) or \
            any(nodes[s].engine == "debug" for s in x.succs):
        return False
    longest_in = max(preds.values(), default=0)
    longest_out = max(x.succs.values(), default=0)
    return longest_in + longest_out <= 1

