"""Lower bounds on a block's cycles, for the scheduler's report and its early
stop.

- the resource bound: the busiest engine's ops / slots;
- the critical path: the longest latency chain;
- the release-and-tail bound, which combines both: an engine's ops that
  cannot start before cycle `a` (their release: the longest path from the
  block's start) and leave at least `b` cycles after them (their tail: the
  longest path to the end) need `a + ceil(count / slots) + b` cycles, for
  every choice of `a` and `b`. It is never below the other two, and it is
  the bound the report calls tight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .listsched import CAPS, ENGINE_NAMES, Graph


@dataclass(frozen=True)
class Bounds:
    resource: int  # the busiest engine's ops / slots
    critical: int  # the longest latency chain
    tight: int  # release-and-tail, over every engine
    engine: str | None  # the engine that sets the tight bound (None: the critical path)

    @property
    def simple(self) -> int:
        return max(self.resource, self.critical)


def bounds(g: Graph) -> Bounds:
    """Every lower bound of the block's cycles."""
    if not g.costly:
        return Bounds(0, 0, 0, None)
    by_engine: dict[int, list[int]] = {}
    for i in g.costly:
        by_engine.setdefault(g.engine[i], []).append(i)
    resource = max(-(-len(ops) // CAPS[e]) for e, ops in by_engine.items())
    critical = max(g.heights, default=0)
    tight, engine = critical, None
    for e, ops in by_engine.items():
        b = _release_tail(ops, g.releases, g.heights, CAPS[e])
        if b > tight:
            tight, engine = b, ENGINE_NAMES[e]
    return Bounds(resource, critical, tight, engine)


def _release_tail(ops: list[int], release: list[int], height: list[int], cap: int) -> int:
    """max over a, b of a + ceil(#{op: release >= a, tail >= b} / cap) + b."""
    r = np.fromiter((release[i] for i in ops), dtype=np.int64, count=len(ops))
    q = np.fromiter((height[i] - 1 for i in ops), dtype=np.int64, count=len(ops))
    # Only thresholds equal to some op's release (tail) can be the best.
    rs = _thresholds(np.unique(r))
    qs = _thresholds(np.unique(q))
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
