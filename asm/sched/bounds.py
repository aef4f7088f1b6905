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

from .. import isa
from .graph import CAPS, ENGINE_NAMES, Graph
from .priorities import EXACT_WORK_LIMIT, downstream_work
from .tuning import TUNING


@dataclass(frozen=True)
class Window:
    """The ops that set a release-and-tail bound: `engine`'s (an index into
    ENGINE_NAMES) whose release is at least `release` and whose tail is at
    least `tail`. They need every slot of their engine between cycle
    `release` and `tail` cycles before the end of a schedule that meets the
    bound; another op of the engine placed in that stretch costs them a slot
    (the search's "clearing" move, asm/sched/search.py, moves such ops out)."""

    engine: int
    release: int
    tail: int


@dataclass(frozen=True)
class Bounds:
    resource: int  # the busiest engine's ops / slots
    critical: int  # the longest latency chain
    paths: int  # release-and-tail from latency paths alone: quick, what the search stops at
    paths_engine: str | None  # the engine that sets it (None: the critical path)
    graph: Graph | None = field(default=None, repr=False, compare=False)
    # (the tight bound, its engine and why, when known without the graph: a
    # block whose schedule came from a memo)
    counted: tuple[int, str | None, str] | None = field(default=None, compare=False)
    # per engine whose release-and-tail bound from paths comes within
    # TUNING.clear_within of `paths`, the ops that set it
    windows: tuple[Window, ...] = field(default=(), compare=False)

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

    @property
    def why(self) -> str:
        """The tight bound in one phrase: what sets it."""
        return self._counted[2]

    @cached_property
    def _counted(self) -> tuple[int, str | None, str]:
        if self.counted is not None:
            return self.counted
        if self.graph is None:
            return self.paths, self.paths_engine, _because(self.paths_engine, None)
        by_engine = _by_engine(self.graph)
        release, tail = _counted_releases_tails(self.graph, by_engine)
        value, engine, witness = _best_witness(by_engine, release, tail, self.critical, None)
        return value, engine, _because(engine, witness)


def bounds(g: Graph) -> Bounds:
    """Every lower bound of the block's cycles."""
    if not g.costly:
        return Bounds(0, 0, 0, None)
    by_engine = _by_engine(g)
    resource = max(-(-len(ops) // CAPS[e]) for e, ops in by_engine.items())
    critical = max(g.heights, default=0)
    each = _witnesses(by_engine, np.asarray(g.releases, dtype=np.int64), g.height_array - 1)
    paths, engine, _ = _best_of(each, critical, None)
    windows = tuple(Window(e, a, b) for e, (value, a, _, b) in sorted(each.items())
                    if value >= TUNING.clear_within * paths)
    return Bounds(resource, critical, paths, engine, g, windows=windows)


def _by_engine(g: Graph) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for i in g.costly:
        out.setdefault(g.engine[i], []).append(i)
    return out


def _best_witness(by_engine: dict[int, list[int]], release: np.ndarray, tail: np.ndarray,
                  floor: int, engine: str | None
                  ) -> tuple[int, str | None, tuple[int, int, int, int] | None]:
    """(the release-and-tail bound over every engine (`by_engine`: each one's
    ops), or `floor` when none is above it; the engine that sets it; the (a,
    count, b, slots) that give it, None for `floor`)."""
    return _best_of(_witnesses(by_engine, release, tail), floor, engine)


def _witnesses(by_engine: dict[int, list[int]], release: np.ndarray, tail: np.ndarray
               ) -> dict[int, tuple[int, int, int, int]]:
    """Per engine, its release-and-tail bound and the a, count and b that give it."""
    return {e: _release_tail_witness(ops, release, tail, CAPS[e])
            for e, ops in by_engine.items()}


def _best_of(each: dict[int, tuple[int, int, int, int]], floor: int, engine: str | None
             ) -> tuple[int, str | None, tuple[int, int, int, int] | None]:
    witness = None
    for e, (value, a, count, b) in each.items():
        if value > floor:
            floor, engine, witness = value, ENGINE_NAMES[e], (a, count, b, CAPS[e])
    return floor, engine, witness


def _because(engine: str | None, witness: tuple[int, int, int, int] | None) -> str:
    """What sets a tight bound, in one phrase."""
    if engine is None:
        return "the longest dependence chain"
    if witness is None:
        return f"the {engine} ops"
    a, count, b, slots = witness
    need = -(-count // slots)
    if not a and not b:
        return f"{count} {engine} ops at {slots} a cycle"
    parts = [f"{count} {engine} ops"]
    if a:
        parts.append(f"none before cycle {a}")
    parts.append(f"{need} cycles at {slots} a cycle")
    if b:
        parts.append(f"then a chain of {b}")
    return ": ".join(parts[:1]) + ", " + ", ".join(parts[1:])


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


def _release_tail_witness(ops: list[int], release: np.ndarray, tail: np.ndarray,
                          cap: int) -> tuple[int, int, int, int]:
    """(the release-and-tail bound, and the a, count and b that give it)."""
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
    value = np.where(count > 0, rs[:, None] + (count + cap - 1) // cap + qs[None, :], 0)
    i, j = np.unravel_index(int(value.argmax()), value.shape)
    return int(value[i, j]), int(rs[i]), int(count[i, j]), int(qs[j])


# Thresholds per axis at most: every pair (a, b) gives a true bound, so a block
# with more distinct releases (a long chain through reused scratch, 90,000 of
# them) is bounded from a spread of them in memory that stays small.
MAX_THRESHOLDS = 2048


def _thresholds(values: np.ndarray) -> np.ndarray:
    """`values` (sorted), or an even spread of them from the smallest."""
    if len(values) <= MAX_THRESHOLDS:
        return values
    return values[np.linspace(0, len(values) - 1, MAX_THRESHOLDS).astype(np.int64)]


@dataclass(frozen=True)
class ProgramBounds:
    """A program's lower bounds, the one set every view shows (`vasm
    schedule --report`, `vemu stats`, the editor's code lens), summed over
    its blocks, each block counted as often as it runs (once, as written):

    - resource floor: per block, its busiest engine's ops over that engine's
      slots;
    - critical path: per block, its longest latency chain;
    - tight bound: per block, the release-and-tail bound with resources
      counted (module docstring), never below the other two.
    """

    resource: int
    resource_engine: str | None  # the busiest engine over the whole program
    critical: int | None  # None: not worked out (over BOUNDS_OP_LIMIT; `why` says)
    tight: int | None
    why: str  # what sets the tight bound, in one phrase

    def describe(self) -> str:
        """The bounds as every view words them."""
        engine = f" ({self.resource_engine})" if self.resource_engine else ""
        floor = f"resource floor {self.resource}{engine}"
        if self.tight is None:
            return f"{floor}; tight bound and critical path {self.why}"
        return f"tight bound {self.tight} ({self.why}), {floor}, critical path {self.critical}"


def engine_counts(program, start: int, end: int) -> dict[str, int]:
    """Ops per engine in bundles start..end-1."""
    counts: dict[str, int] = {}
    for pc in range(start, end):
        for engine, slots in program[pc].items():
            counts[engine] = counts.get(engine, 0) + len(slots)
    return counts


def resource_floor(counts: dict[str, int]) -> int:
    """The busiest engine's ops over its slots, in cycles (free engines aside)."""
    return max((-(-n // isa.SLOT_LIMITS[e]) for e, n in counts.items()
                if e not in isa.FREE_ENGINES), default=0)


# Above this many ops the dependence graph behind the critical path and the
# tight bound takes seconds to build (baseline.vasm's 150,000 ops: about 5 s),
# so the views that are not scheduling anyway (`vemu stats`, the editor) show
# the resource floor alone and say why; the scheduler builds the graph anyway
# and its report always has all three.
BOUNDS_OP_LIMIT = 50_000


def summed(parts: list[tuple[Bounds, int]], engine_ops: dict[str, int]) -> ProgramBounds:
    """ProgramBounds from (a block's bounds, how often it runs) pairs;
    `engine_ops`: each engine's ops over the program (names the busiest)."""
    busiest = _busiest(engine_ops)
    costly = [(b, n) for b, n in parts if n and b.tight]
    if len(costly) == 1:
        why = costly[0][0].why
    else:
        top = max(costly, key=lambda p: p[0].tight * p[1], default=None)
        why = (f"summed over {len(costly)} blocks; the largest: {top[0].why}" if top
               else "nothing to run")
    return ProgramBounds(sum(b.resource * n for b, n in parts), busiest,
                         sum(b.critical * n for b, n in parts),
                         sum(b.tight * n for b, n in parts), why)


def _busiest(engine_ops: dict[str, int]) -> str | None:
    costly = {e: n for e, n in engine_ops.items() if n and e not in isa.FREE_ENGINES}
    return max(costly, key=lambda e: costly[e] / isa.SLOT_LIMITS[e], default=None)


def program_bounds(kernel, runs: dict[int, int] | None = None, *,
                   limit: int | None = BOUNDS_OP_LIMIT) -> ProgramBounds:
    """The lower bounds of a Kernel's cycles, every block once as written, or
    as often as `runs` (block start pc -> times run) says. Over `limit` ops
    (None: no limit) only the resource floor is worked out."""
    from ..cfg import ControlFlow
    from ..kernel import bundle_cost
    program = kernel.program
    ranges = ControlFlow(program).blocks()
    engine_ops: dict[str, int] = {}
    floors = []
    for r in ranges:
        n = 1 if runs is None else runs.get(r.start, 0)
        counts = engine_counts(program, r.start, r.end)
        for e, c in counts.items():
            engine_ops[e] = engine_ops.get(e, 0) + c * n
        floors.append(resource_floor(counts) * n)
    ops = sum(c for e, c in engine_ops.items() if e not in isa.FREE_ENGINES)
    if limit is not None and ops > limit:
        return ProgramBounds(sum(floors), _busiest(engine_ops), None, None,
                             f"not worked out over {limit:,} ops; 'vasm schedule --report' "
                             "works it out")
    from .debugops import BlockGraph
    from .deps import blocks
    from .graph import Cyclic
    parts = []
    for block in blocks(kernel):
        n = 1 if runs is None else runs.get(block.start, 0)
        written = sum(bundle_cost(b) for b in program[block.start:block.end])
        if block.pinned or not block.nodes:
            parts.append((Bounds(written, written, written, None), n))
            continue
        try:
            parts.append((bounds(BlockGraph(block.nodes).graph), n))
        except Cyclic:  # constraints no order meets: the block as written is all we know
            parts.append((Bounds(written, written, written, None), n))
    return summed(parts, engine_ops)
