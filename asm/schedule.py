"""The scheduler: packs a program's ops into as few bundles as its dependences
and the machine's slots allow, keeping every op's meaning.

Per basic block (asm/deps.py): list scheduling, cycle by cycle, on
critical-path height, with several priority variants; each block keeps the
best packing found, and its original packing when that is better, so the
result never takes more cycles than the input. Debug ops ride along with
their data and never cost a cycle; control flow stays last in its block; jump
targets and labels are re-resolved afterwards.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from . import isa
from .deps import SYNC, Block, Node, blocks, retarget, unmovable
from .kernel import Kernel

LIMITS = {**isa.SLOT_LIMITS, SYNC: 1 << 30}


@dataclass
class BlockReport:
    start: int
    ops: int
    before: int  # cycles as written
    after: int  # cycles scheduled
    bound: int  # max(resource bound, critical path)
    kept: str  # which packing won


@dataclass
class Schedule:
    kernel: Kernel
    blocks: list[BlockReport] = field(default_factory=list)
    note: str | None = None  # why nothing was scheduled, if so

    @property
    def before(self) -> int:
        return sum(b.before for b in self.blocks)

    @property
    def after(self) -> int:
        return sum(b.after for b in self.blocks)


class Cyclic(Exception):
    """The block's constraints form a cycle (a jump written in a bundle whose
    other ops write what it reads): it can only stay as written."""


def topological(nodes: list[Node], rng: random.Random | None = None) -> list[int]:
    """An order of the nodes that respects every edge; with `rng`, a random one
    among all such orders."""
    waiting = [len(n.preds) for n in nodes]
    ready = [n.index for n in nodes if waiting[n.index] == 0]
    order = []
    while ready:
        i = ready.pop(rng.randrange(len(ready)) if rng else -1)
        order.append(i)
        for s in nodes[i].succs:
            waiting[s] -= 1
            if waiting[s] == 0:
                ready.append(s)
    if len(order) != len(nodes):
        raise Cyclic
    return order


def heights(nodes: list[Node]) -> list[int]:
    """Longest latency path from each node to the end of its block (the
    critical-path priority); a node counts one cycle itself (debug ops none)."""
    h = [0] * len(nodes)
    for i in reversed(topological(nodes)):
        n = nodes[i]
        best = 0 if n.is_debug else 1
        for s, lat in n.succs.items():
            if h[s] + lat > best:
                best = h[s] + lat
        h[i] = best
    return h


def lower_bound(nodes: list[Node]) -> int:
    count: dict[str, int] = {}
    for n in nodes:
        if not n.is_debug:  # (sync nodes count as debug: no slot, no cycle)
            count[n.engine] = count.get(n.engine, 0) + 1
    resource = max((-(-c // isa.SLOT_LIMITS[e]) for e, c in count.items()), default=0)
    critical = max(heights(nodes), default=0)
    return max(resource, critical)


Priority = Callable[[list[Node], list[int]], list[tuple]]


def _by_height(nodes: list[Node], h: list[int]) -> list[tuple]:
    return [(-h[n.index], n.index) for n in nodes]


def _by_height_then_fanout(nodes: list[Node], h: list[int]) -> list[tuple]:
    return [(-h[n.index], -len(n.succs), n.index) for n in nodes]


def _by_height_then_late_first(nodes: list[Node], h: list[int]) -> list[tuple]:
    return [(-h[n.index], -n.index) for n in nodes]


def _in_order(nodes: list[Node], h: list[int]) -> list[tuple]:
    """Program order: greedy in-order issue that fills slots with whatever later
    op is ready. When the source runs one chain after another (a kernel written
    group by group), this lets early chains run ahead, so phases that starve
    one engine overlap other chains' phases that feed it."""
    return [(n.index,) for n in nodes]


PRIORITIES: dict[str, Priority] = {
    "height": _by_height,
    "height+fanout": _by_height_then_fanout,
    "height+late": _by_height_then_late_first,
    "order": _in_order,
}


def distance_to(nodes: list[Node], engine: str) -> list[int]:
    """Cycles from each node down to the nearest op of `engine` (far if none)."""
    far = 1 << 20
    d = [far] * len(nodes)
    for i in reversed(topological(nodes)):
        n = nodes[i]
        if n.engine == engine:
            d[i] = 0
            continue
        best = far
        for s, lat in n.succs.items():
            v = d[s] + (lat or 1)
            if v < best:
                best = v
        d[i] = best
    return d


def feeding(engine: str) -> Priority:
    """When two engines are both nearly saturated, height alone lets every
    chain move in lockstep (all hashing, then all loading). Preferring the
    ops closest to a starving engine's next op staggers them."""
    def priority(nodes: list[Node], h: list[int]) -> list[tuple]:
        d = distance_to(nodes, engine)
        return [(d[n.index], -h[n.index], n.index) for n in nodes]
    return priority


def bottlenecks(nodes: list[Node], within: float = 0.8) -> list[str]:
    """Engines whose ops need at least `within` of the busiest engine's cycles."""
    need: dict[str, float] = {}
    for n in nodes:
        if not n.is_debug:
            need[n.engine] = need.get(n.engine, 0) + 1 / isa.SLOT_LIMITS[n.engine]
    top = max(need.values(), default=0)
    return [e for e, v in need.items() if v >= within * top] if top else []


def _following(prev: list[int], backward: bool) -> Priority:
    """Priority from an earlier schedule, for forward-backward improvement."""
    if backward:
        return lambda nodes, h: [(-prev[n.index], -h[n.index], n.index) for n in nodes]
    return lambda nodes, h: [(prev[n.index], -h[n.index], n.index) for n in nodes]


def reversed_graph(nodes: list[Node]) -> list[Node]:
    """The same ops with every edge turned round: scheduling it and reading the
    cycles backwards is backward list scheduling."""
    return [Node(x.index, x.pc, x.engine, x.slot, x.op, x.reads, x.writes,
                 preds=dict(x.succs), succs=dict(x.preds)) for x in nodes]


class Graph:
    """A block's nodes with what every pass needs, computed once: heights, and
    the reversed graph with its heights (for backward passes)."""

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = nodes
        self.h = heights(nodes)
        self._reverse: Graph | None = None

    @property
    def reverse(self) -> Graph:
        if self._reverse is None:
            self._reverse = Graph(reversed_graph(self.nodes))
        return self._reverse


def backward_schedule(g: Graph | list[Node], priority: Priority) -> list[int]:
    g = g if isinstance(g, Graph) else Graph(g)
    rev = list_schedule(g.reverse, priority)
    last = max(rev, default=0)
    return [last - c for c in rev]


def list_schedule(g: Graph | list[Node], priority: Priority) -> list[int]:
    """The cycle of each node: cycle-driven list scheduling with one ready heap
    per engine (so a full engine costs nothing to skip)."""
    g = g if isinstance(g, Graph) else Graph(g)
    nodes, h = g.nodes, g.h
    n = len(nodes)
    key = priority(nodes, h)
    waiting = [len(x.preds) for x in nodes]
    earliest = [0] * n
    cycle_of = [-1] * n
    ready: dict[str, list] = {e: [] for e in (*isa.ENGINES, SYNC)}  # (key, index)
    pending: list[tuple[int, int]] = []  # (earliest, index)
    for x in nodes:
        if waiting[x.index] == 0:
            heapq.heappush(pending, (0, x.index))
    done = 0
    now = 0
    while done < n:
        while pending and pending[0][0] <= now:
            _, i = heapq.heappop(pending)
            heapq.heappush(ready[nodes[i].engine], (key[i], i))
        used = dict.fromkeys(ready, 0)
        progressed = True
        while progressed:
            progressed = False
            for engine, heap in ready.items():
                limit = LIMITS[engine]
                while heap and used[engine] < limit:
                    _, i = heapq.heappop(heap)
                    cycle_of[i] = now
                    used[engine] += 1
                    done += 1
                    progressed = True
                    for s, lat in nodes[i].succs.items():
                        t = now + lat
                        if t > earliest[s]:
                            earliest[s] = t
                        waiting[s] -= 1
                        if waiting[s] == 0:
                            if earliest[s] <= now:  # an anti dependence: same bundle
                                heapq.heappush(ready[nodes[s].engine], (key[s], s))
                            else:
                                heapq.heappush(pending, (earliest[s], s))
        if done < n:
            if not any(ready.values()) and not pending:
                raise Cyclic
            nxt = now + 1
            if not any(ready.values()):
                nxt = max(nxt, pending[0][0])
            now = nxt
    return cycle_of


def _pack(nodes: list[Node], cycle_of: list[int]) -> list[list[Node]]:
    """Bundles in cycle order (empty cycles dropped), ops in original order."""
    by_cycle: dict[int, list[Node]] = {}
    for x in nodes:
        if not x.is_sync:
            by_cycle.setdefault(cycle_of[x.index], []).append(x)
    return [sorted(by_cycle[c], key=lambda x: x.index) for c in sorted(by_cycle)]


JUSTIFY_ROUNDS = 4


def schedule_block(block: Block, program: Sequence[dict],
                   priorities: Iterable[str] = tuple(PRIORITIES)) -> tuple[list, BlockReport]:
    """(the block's new bundles as node lists, or None to keep it as written; report)."""
    before = block.original_cycles(program)
    if block.pinned or not block.nodes:
        kept = "pinned" if block.pinned else "as written"
        return None, BlockReport(block.start, len(block.nodes), before, before, before, kept)
    nodes = block.nodes
    best: list[int] | None = None  # the cycle of each node in the best schedule
    best_name, best_cost = "as written", before
    costly = [x.index for x in nodes if not x.is_sync and not x.is_debug]

    def cycles_used(cycle_of: list[int]) -> int:
        """The cycles a schedule takes: those with an op that costs one (debug
        ops ride free), counted without building the bundles."""
        return len(set(map(cycle_of.__getitem__, costly)))
    # The starts justified next: the best list schedule, and the best
    # backward one after a forward pass (see below).
    starts: dict[str, tuple[int, str, list[int]]] = {}

    def keep(which: str, cost: int, label: str, cycles: list[int]) -> None:
        if which not in starts or cost < starts[which][0]:
            starts[which] = (cost, label, cycles)
    try:
        graph = Graph(nodes)
        bound = lower_bound(nodes)
        tries = [(name, PRIORITIES[name]) for name in priorities]
        starving = bottlenecks(nodes)
        if len(starving) > 1:
            tries += [(f"feed {e}", feeding(e)) for e in starving]
        for name, priority in tries:
            for direction, run in (("forward", list_schedule), ("backward", backward_schedule)):
                cycles = run(graph, priority)
                label = f"{direction}, {name}"
                candidates = [(cycles, label)]
                if direction == "backward":
                    # A backward schedule is already right-justified: one forward
                    # pass shows where it leads, which its own length does not
                    # (on prateek's kernel the longest start leads to the
                    # shortest schedule).
                    candidates.append((list_schedule(graph, _following(cycles, backward=False)),
                                       f"{label} + justified"))
                for i, (cyc, how) in enumerate(candidates):
                    cost = cycles_used(cyc)
                    keep("raw" if i == 0 else "one round", cost, how, cyc)
                    if cost < best_cost or (best is None and cost == best_cost):
                        best, best_name, best_cost = cyc, how, cost
                if best_cost <= bound:
                    break
            if best_cost <= bound:
                break
        # Forward-backward improvement: justify each start right, then left,
        # until a round gains nothing.
        for last, label, cycles in ({id(v[2]): v for v in starts.values()}).values():
            if best_cost <= bound:
                break
            for _ in range(JUSTIFY_ROUNDS):
                cycles = backward_schedule(graph, _following(cycles, backward=True))
                cycles = list_schedule(graph, _following(cycles, backward=False))
                cost = cycles_used(cycles)
                if cost < best_cost:
                    best, best_name, best_cost = cycles, f"{label} + justified", cost
                if cost >= last or best_cost <= bound:
                    break  # converged: a round that gains nothing will not start to
                last = cost
    except Cyclic:
        return None, BlockReport(block.start, len(block.nodes), before, before, before,
                                 "as written (cyclic constraints)")
    return (None if best is None else _pack(nodes, best),
            BlockReport(block.start, len(block.nodes), before, best_cost, bound, best_name))


def _bundle(nodes: list[Node]) -> dict:
    out: dict[str, list] = {}
    for e in isa.ENGINES:
        slots = [x.slot for x in nodes if x.engine == e]
        if slots:
            out[e] = slots
    return out


def schedule_kernel(kernel: Kernel, *, restrict: Sequence[Iterable[int]] = (),
                    pinned: Iterable[int] = (),
                    priorities: Iterable[str] = tuple(PRIORITIES),
                    rename_words: Iterable[int] | str | None = None) -> Schedule:
    """Schedule every block of a kernel; the result computes the same memory
    and trace buffer in no more cycles.

    `rename_words`: the words whose definitions may move to free scratch words
    first (the `.temp` ones), or "all" for any word (see asm/rename.py).
    """
    why = unmovable(kernel.program)
    if why is not None:
        return Schedule(kernel, note=f"{why}; nothing moves")
    original = kernel
    if rename_words is not None:
        from .rename import rename
        kernel, _ = rename(kernel, None if rename_words == "all" else rename_words,
                           pinned=pinned)
    result = _schedule_blocks(kernel, restrict, pinned, tuple(priorities))
    if result.after > sum(original.cycle_cost):  # renaming can only help; never lose
        return _schedule_blocks(original, restrict, pinned, tuple(priorities))
    return result


def _schedule_blocks(kernel: Kernel, restrict, pinned, priorities) -> Schedule:
    program = kernel.program
    new_program: list[dict] = []
    new_source: list[str | None] | None = [] if kernel.source is not None else None
    new_pc: dict[int, int] = {}  # old block start -> new pc
    origin: list[int] = []  # new pc -> an old pc (for relative jumps and sources)
    reports = []
    for block in blocks(kernel, restrict=restrict, pinned=pinned):
        new_pc[block.start] = len(new_program)
        bundles, report = schedule_block(block, program, priorities)
        reports.append(report)
        if bundles is None:
            for pc in range(block.start, block.end):
                new_program.append(program[pc])
                origin.append(pc)
        else:
            for b in bundles:
                new_program.append(_bundle(b))
                # A relative jump counts from its own old bundle.
                origin.append(next((x.pc for x in b if x.is_control), min(x.pc for x in b)))
    new_pc[len(program)] = len(new_program)
    for pc, bundle in enumerate(new_program):
        if "flow" in bundle:
            new_program[pc] = retarget(bundle, pc, origin[pc], new_pc, len(program),
                                       len(new_program))
        if new_source is not None:
            new_source.append(kernel.source[origin[pc]])
    labels = {name: _map_pc(pc, new_pc, origin) for name, pc in kernel.labels.items()}
    out = Kernel(new_program, scratch=dict(kernel.scratch), labels=labels, source=new_source)
    return Schedule(out, reports)


def _map_pc(pc: int, new_pc: dict[int, int], origin: list[int]) -> int:
    if pc in new_pc:
        return new_pc[pc]
    return next((i for i, o in enumerate(origin) if o >= pc), len(origin))


def hints(assembly) -> tuple[list[list[int]], set[int], set[int]]:
    """(`.restrict` sets as scratch addresses, pinned pcs, `.temp` words) from an
    assembly's IR."""
    module, kernel = assembly.module, assembly.kernel
    address = {name: a for a, (name, _) in kernel.scratch.items()}
    restrict = [[address[n] for n in names if n in address] for names, _ in module.restricts]
    pinned = {pc for start, end in module.pins for pc in range(start, end)}
    temps = {address[s.name] + i for s in module.symbols.values() if s.temp
             for i in range(s.length)}
    return restrict, pinned, temps


def schedule(source, **options) -> Schedule:
    """Schedule a Kernel, an `Assembly` (its `.restrict` and `.pin` are used), or
    `.vasm` source (a path or text, assembled first)."""
    from .assembler import Assembly, assemble_full
    from .errors import AssemblyError

    if isinstance(source, Kernel):
        return schedule_kernel(source, **options)
    if not isinstance(source, Assembly):
        source = assemble_full(source)
        if source.kernel is None:
            raise AssemblyError(source.diagnostics)
    restrict, pinned, temps = hints(source)
    if temps and "rename_words" not in options:
        options["rename_words"] = temps
    return schedule_kernel(source.kernel, restrict=restrict, pinned=pinned, **options)


def report(s: Schedule) -> str:
    """Per-engine utilization, lower bound and achieved cycles."""
    program = s.kernel.program
    cycles = sum(s.kernel.cycle_cost)
    lines = [f"cycles: {s.before} as written, {s.after} scheduled "
             f"(lower bound {sum(b.bound for b in s.blocks)})"]
    if s.note:
        lines.append(f"note: {s.note}")
    lines.append(f"{'engine':<8}{'ops':>9}{'slots':>7}{'utilization':>13}")
    for e in isa.ENGINES:
        if e in isa.FREE_ENGINES:
            continue
        n = sum(len(b.get(e, ())) for b in program)
        if n:
            use = n / (isa.SLOT_LIMITS[e] * cycles) if cycles else 0.0
            lines.append(f"{e:<8}{n:>9}{isa.SLOT_LIMITS[e]:>7}{use:>12.1%}")
    far = sorted((b for b in s.blocks if b.after > b.bound), key=lambda b: b.bound - b.after)
    if far:
        lines.append("blocks farthest from their bound (start pc, ops, before, after, bound):")
        for b in far[:8]:
            lines.append(f"  pc {b.start:>6}  {b.ops:>6} ops  {b.before:>7} -> {b.after:>7}"
                         f"  bound {b.bound:>7}  ({b.kept})")
    return "\n".join(lines)
