"""Lower bounds on a block's cycles, for the scheduler's report and its early
stop.

- the resource bound: the busiest engine's ops / slots;
- the critical path: the longest latency chain;
- the release-and-tail bound, which combines both: an engine's ops that
  cannot start before cycle `a` (their release: the longest path from the
  block's start) and leave at least `b` cycles after them (their tail: the
  longest path to the end) need `a + ceil(count / slots) + b` cycles, for
  every choice of `a` and `b`. It is never below the other two. With
  releases and tails from latency paths alone it is `paths` (quick: the
  search stops at it); `tight`, the one the report shows, counts resources
  too: an op whose ancestors include `k` ops of an engine with `s` slots
  cannot run before cycle ceil(k / s) - 1, and likewise for its descendants
  and its tail. A store that must wait for every gather of a kernel (the
  gathers' addresses are unknown, so they may read what it writes) gets the
  load engine's whole length as its release, which paths alone never see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .listsched import CAPS, ENGINE_NAMES, EXACT_WORK_LIMIT, Graph, downstream_work


@dataclass(frozen=True)
class Bounds:
    resource: int  # the busiest engine's ops / slots
    critical: int  # the longest latency chain
    paths: int  # release-and-tail from latency paths alone: quick, what the search stops at
    paths_engine: str | None  # the engine that sets it (None: the critical path)
    graph: Graph | None = field(default=None, repr=False, compare=False)

    @property
    def simple(self) -> int:
        return max(self.resource, self.critical)

    @property
    def tight(self) -> int:
        """Release-and-tail with releases and tails that count resources too
        (worked out when first asked: the report wants it, the search does
        not need it)."""
        return self._counted[0]

    @property
    def engine(self) -> str | None:
        """The engine that sets the tight bound (None: the critical path)."""
        return self._counted[1]

    @cached_property
    def _counted(self) -> tuple[int, str | None]:
        if self.graph is None:
            return self.paths, self.paths_engine
        by_engine = _by_engine(self.graph)
        release, tail = _counted_releases_tails(self.graph, by_engine)
        return _best(by_engine, release, tail, self.paths, self.paths_engine)


def bounds(g: Graph) -> Bounds:
    """Every lower bound of the block's cycles."""
    if not g.costly:
        return Bounds(0, 0, 0, None)
    by_engine = _by_engine(g)
    resource = max(-(-len(ops) // CAPS[e]) for e, ops in by_engine.items())
    critical = max(g.heights, default=0)
    paths, engine = _best(by_engine, np.asarray(g.releases, dtype=np.int64),
                          g.height_array - 1, critical, None)
    return Bounds(resource, critical, paths, engine, g)


def _by_engine(g: Graph) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for i in g.costly:
        out.setdefault(g.engine[i], []).append(i)
    return out


def _best(by_engine: dict[int, list[int]], release: np.ndarray, tail: np.ndarray, floor: int,
          engine: str | None) -> tuple[int, str | None]:
    """(the release-and-tail bound over every engine (`by_engine`: each one's
    ops), or `floor` when none is above it; the engine that sets it)."""
    for e, ops in by_engine.items():
        b = _release_tail(ops, release, tail, CAPS[e])
        if b > floor:
            floor, engine = b, ENGINE_NAMES[e]
    return floor, engine


def _counted_releases_tails(g: Graph, by_engine: dict[int, list[int]]
                            ) -> tuple[np.ndarray, np.ndarray]:
    """Each op's release and tail (cycles after its own), raised by what its
    ancestors and descendants need on the three busiest engines (at least
    half the busiest one's load: the others cannot set the bound). Exact
    counts only (downstream_work's bit sets), so only up to their size limit."""
    release = np.asarray(g.releases, dtype=np.int64)
    tail = g.height_array - 1
    if g.n > EXACT_WORK_LIMIT:
        return release, tail
    need = {e: -(-len(ops) // CAPS[e]) for e, ops in by_engine.items()}
    top = max(need.values())
    busy = sorted((e for e, v in need.items() if 2 * v >= top), key=lambda e: -need[e])[:3]
    # One walk each way, the three engines' counts packed in one exact double
    # (base n + 1: at most (n + 1) ** 3, far below 2 ** 53).
    base = g.n + 1
    weights = {ENGINE_NAMES[e]: float(base ** k) for k, e in enumerate(busy)}
    for graph, out in ((g.reverse, release), (g, tail)):
        packed = np.array(downstream_work(graph, weights), dtype=np.int64)
        for k, e in enumerate(busy):
            count = packed // base ** k % base
            np.maximum(out, -(-count // CAPS[e]) - 1, out=out)
    return release, tail


def _distinct(a: np.ndarray) -> np.ndarray:
    """np.unique of a 1-d array (which, in NumPy 2, imports numpy.ma to ask
    whether the array is masked: 10 ms of every schedule's start)."""
    s = np.sort(a)
    keep = np.ones(len(s), dtype=bool)
    keep[1:] = s[1:] != s[:-1]
    return s[keep]


def _release_tail(ops: list[int], release: np.ndarray, tail: np.ndarray, cap: int) -> int:
    """max over a, b of a + ceil(#{op: release >= a, tail >= b} / cap) + b."""
    r = release[ops]
    q = tail[ops]
    # Only thresholds equal to some op's release (tail) can be the best.
    rs = _thresholds(_distinct(r))
    qs = _thresholds(_distinct(q))
    # Each op counts at the largest thresholds it reaches.
    r_at = np.searchsorted(rs, r, side="right") - 1
    q_at = np.searchsorted(qs, q, side="right") - 1
    grid = np.zeros((len(rs), len(qs)), dtype=np.int64)
    np.add.at(grid, (r_at, q_at), 1)
    # count[i, j]: ops with release >= rs[i] and tail >= qs[j]
    count = grid[::-1, ::-1].cumsum(0).cumsum(1)[::-1, ::-1]
    value = rs[:, None] + (count + cap - 1) // cap + qs[None, :]
    return int(np.where(count > 0, value, 0).max())


# Thresholds per axis at most: every pair (a, b) gives a true bound, so a block
# with more distinct releases (a long chain through reused scratch, 90,000 of
# them) is bounded from a spread of them in memory that stays small.
MAX_THRESHOLDS = 2048


def _thresholds(values: np.ndarray) -> np.ndarray:
    """`values` (sorted), or an even spread of them from the smallest."""
    if len(values) <= MAX_THRESHOLDS:
        return values
    return values[np.linspace(0, len(values) - 1, MAX_THRESHOLDS).astype(np.int64)]
