"""The scheduler: packs a program's ops into as few bundles as its dependences
and the machine's slots allow, keeping every op's meaning.

Per basic block (asm/cfg.py, asm/sched/deps.py): the search of asm/sched/search.py, at an
optimization level, over list schedules (asm/sched/listsched.py); each block keeps
the best packing found, or its original packing when that is no worse, so
the result never takes more cycles than the input. Debug ops ride along with
their data and never cost a cycle; control flow stays last in its block; jump
targets and labels are re-resolved afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from .. import isa
from ..cfg import ControlFlow, retarget
from ..gcpause import gc_paused
from ..kernel import Kernel, bundle_cost
from .bounds import Bounds, ProgramBounds, bounds, engine_counts, resource_floor, summed
from .debugops import BlockGraph
from .deps import Block, Edges, OpNode, blocks, csr_sources
from .gap import GAP_SHOWN, explain, longest_chain
from .graph import ENGINE_INDEX, ENGINE_NAMES, Cyclic
from .search import search, workers
from .split import SplitReport, split_lanes
from .tuning import DEFAULT_BUDGET, DEFAULT_LEVEL, LEVELS, TUNING, Level


@dataclass
class BlockReport:
    start: int
    ops: int
    before: int  # cycles as written
    after: int  # cycles scheduled
    bound: Bounds  # lower bounds of the block's cycles
    kept: str  # which packing won
    passes: int = 0  # list-scheduling passes the search spent
    # (the graph's nodes and the schedule found, for `why_over`)
    found: tuple | None = field(default=None, repr=False, compare=False)

    def why_over(self) -> str | None:
        """Why the schedule is more than GAP_SHOWN over its tight bound, in
        words (asm/sched/gap.py), or None."""
        if self.found is None or self.after <= self.bound.tight * (1 + GAP_SHOWN):
            return None
        nodes, cycle_of = self.found
        return explain(longest_chain(self.bound.graph, nodes, cycle_of))


@dataclass
class Schedule:
    kernel: Kernel
    blocks: list[BlockReport] = field(default_factory=list)
    note: str | None = None  # why nothing was scheduled, if so
    level: int = DEFAULT_LEVEL
    split: SplitReport | None = None  # lane splitting or merging, when it was kept
    written: int | None = None  # cycles as written, when the blocks are of a changed program

    @property
    def before(self) -> int:
        if self.written is not None:
            return self.written
        return sum(b.before for b in self.blocks)

    @property
    def after(self) -> int:
        return sum(b.after for b in self.blocks)

    @property
    def bound(self) -> int:
        """The tight lower bound, summed over blocks."""
        return sum(b.bound.tight for b in self.blocks)

    @property
    def bounds(self) -> ProgramBounds:
        """The scheduled program's bounds, as every view names them."""
        program = self.kernel.program
        return summed([(b.bound, 1) for b in self.blocks],
                      engine_counts(program, 0, len(program)))


Progress = Callable[[str], None]


def _pack(nodes: list[OpNode], cycle_of: np.ndarray) -> list[list[OpNode]]:
    """Bundles in cycle order (empty cycles dropped), ops in original order
    (`nodes`: a block's, in that order)."""
    cycles = cycle_of.tolist()  # (a NumPy element read one at a time costs more)
    by_cycle: dict[float, list[OpNode]] = {}
    for x in nodes:
        if not x.is_sync:
            by_cycle.setdefault(cycles[x.index], []).append(x)
    return [by_cycle[c] for c in sorted(by_cycle)]


class BlockMemo(Protocol):
    """Where block schedules are kept between runs (asm/buildcache.py keeps
    them on disk): get(key) -> stored value or None; put(key, value)."""

    def get(self, key: str) -> Any | None: ...

    def put(self, key: str, value: Any) -> None: ...


def schedule_block(block: Block, program: Sequence[dict], level: Level, *,
                   progress: Progress | None = None, deadline: float | None = None,
                   jobs: int = 1, seed: int = 0, memo: BlockMemo | None = None
                   ) -> tuple[list | None, BlockReport]:
    """(the block's new bundles as node lists, or None to keep it as written;
    report). With a `memo`, a block scheduled before with the same ops,
    context, level and seed takes that schedule (checked first) instead of
    searching; -O3, which stops on the clock, always searches."""
    key = None
    if memo is not None and not level.open_ended and block.nodes and not block.pinned:
        key = _memo_key(block, program, level, seed)
        found = _from_memo(memo.get(key), block, program)
        if found is not None:
            return found
    bundles, report = _schedule_block(block, program, level, progress=progress,
                                      deadline=deadline, jobs=jobs, seed=seed)
    if key is not None:
        memo.put(key, _to_memo(bundles, report))
    return bundles, report


def _memo_key(block: Block, program: Sequence[dict], level: Level, seed: int) -> str:
    from ..buildcache import digest
    return digest("block", [program[pc] for pc in range(block.start, block.end)],
                  block.start, block.context, level.number, seed)


def _to_memo(bundles: list | None, report: BlockReport) -> dict:
    b = report.bound
    return {"bundles": None if bundles is None else [[x.index for x in bundle]
                                                      for bundle in bundles],
            "after": report.after, "kept": report.kept, "passes": report.passes,
            "bound": [b.resource, b.critical, b.paths, b.paths_engine, b.tight, b.engine,
                      b.why]}


def _from_memo(value, block: Block, program: Sequence[dict]
               ) -> tuple[list | None, BlockReport] | None:
    """A memo's schedule of `block`, if it is one: every op placed once, its
    dependences and the slot limits kept (else None: schedule afresh)."""
    try:
        resource, critical, paths, paths_engine, tight, engine, why = value["bound"]
        bound = Bounds(int(resource), int(critical), int(paths), paths_engine,
                       counted=(int(tight), engine, str(why)))
        before = block.original_cycles(program)
        report = BlockReport(block.start, len(block.nodes), before, int(value["after"]),
                             bound, str(value["kept"]), int(value["passes"]))
        if value["bundles"] is None:
            return None, report
        nodes = block.nodes
        bundles = [[nodes[i] for i in bundle] for bundle in value["bundles"]]
    except (TypeError, ValueError, KeyError, IndexError):
        return None
    if not _valid_placement(block, bundles) or report.after != sum(
            1 for b in bundles if any(not x.is_debug for x in b)):
        return None
    return bundles, report


def _valid_placement(block: Block, bundles: list[list[OpNode]]) -> bool:
    """Whether `bundles` place every op of the block once (no sync node), keep
    the slot limits and every dependence: with NumPy over the block's edges
    (a memo read back checks 20,000 ops in milliseconds, not a fifth of a
    second); `_valid_placement_walk` where the nodes share no arrays."""
    nodes = block.nodes
    edges = Edges.of(nodes)
    if edges is None:
        return _valid_placement_walk(block, bundles)
    n = len(nodes)
    sizes = np.fromiter(map(len, bundles), dtype=np.int64, count=len(bundles))
    placed = np.fromiter((x.index for bundle in bundles for x in bundle), dtype=np.int64,
                         count=int(sizes.sum()))
    sync = np.fromiter((x.is_sync for x in nodes), dtype=bool, count=n)
    if (np.bincount(placed, minlength=n) != ~sync).any():  # (each op once, no sync node)
        return False
    cycle = np.full(n, -1, dtype=np.int64)
    cycle[placed] = np.repeat(np.arange(len(bundles)), sizes)
    engine = np.fromiter((ENGINE_INDEX[x.engine] for x in nodes), dtype=np.int64, count=n)
    used = np.bincount(cycle[placed] * len(ENGINE_NAMES) + engine[placed],
                       minlength=len(bundles) * len(ENGINE_NAMES))
    if (used.reshape(-1, len(ENGINE_NAMES)) > _LIMITS).any():
        return False
    # A sync node stands between its neighbours: an edge through one holds as
    # the edges around it do. It is "at" the latest cycle its predecessors
    # let it be (none: no constraint), sync nodes after those before them.
    src = csr_sources(edges.offsets)
    dst, lat = edges.targets.astype(np.int64), edges.lats.astype(np.int64)
    at = np.where(sync, -np.inf, cycle.astype(np.float64))
    into = sync[dst]
    for _ in range(int(sync.sum()) + 1):
        was = at.copy()
        np.maximum.at(at, dst[into], was[src[into]] + lat[into])
        if (at == was).all():
            break
    return bool((at[src[~into]] + lat[~into] <= cycle[dst[~into]]).all())


# Each engine's slots, in ENGINE_NAMES order (sync nodes are never placed).
_LIMITS = np.array([isa.SLOT_LIMITS.get(e, 0) for e in ENGINE_NAMES], dtype=np.int64)


def _valid_placement_walk(block: Block, bundles: list[list[OpNode]]) -> bool:
    """`_valid_placement`, op by op and edge by edge."""
    cycle = {}
    for c, bundle in enumerate(bundles):
        counts: dict[str, int] = {}
        for x in bundle:
            if x.index in cycle or x.is_sync:
                return False
            cycle[x.index] = c
            counts[x.engine] = counts.get(x.engine, 0) + 1
        if any(n > isa.SLOT_LIMITS[e] for e, n in counts.items()):
            return False
    placed = [x for x in block.nodes if not x.is_sync]
    if len(cycle) != len(placed):
        return False
    # Sync nodes stand between their neighbours: an edge through one holds as
    # the edges around it do, so checking ops' own edges (through sync nodes
    # followed to the ops beyond) is checking every constraint.
    for x in placed:
        for y, lat in _op_successors(block, x):
            if cycle[x.index] + lat > cycle[y.index]:
                return False
    return True


def _op_successors(block: Block, x: OpNode):
    """(op, latency) of each op after `x` through its edges, sync nodes passed."""
    nodes = block.nodes
    todo = [(s, lat) for s, lat in x.succs.items()]
    seen: dict[int, int] = {}
    while todo:
        s, lat = todo.pop()
        if seen.get(s, -1) >= lat:
            continue
        seen[s] = lat
        node = nodes[s]
        if node.is_sync:
            todo.extend((t, lat + more) for t, more in node.succs.items())
        else:
            yield node, lat


def _schedule_block(block: Block, program: Sequence[dict], level: Level, *,
                    progress: Progress | None = None, deadline: float | None = None,
                    jobs: int = 1, seed: int = 0) -> tuple[list | None, BlockReport]:
    """(the block's new bundles as node lists, or None to keep it as written; report)."""
    before = block.original_cycles(program)
    if block.pinned or not block.nodes:
        kept = "pinned" if block.pinned else "as written"
        none = Bounds(before, before, before, None)
        return None, BlockReport(block.start, len(block.nodes), before, before, none, kept)
    try:
        block_graph = BlockGraph(block.nodes)
    except Cyclic:
        none = Bounds(before, before, before, None)
        return None, BlockReport(block.start, len(block.nodes), before, before, none,
                                 "as written (cyclic constraints)")
    g = block_graph.graph
    bound = bounds(g)
    found = search(g, bound.paths, before, level, seed=block.start + TUNING.seed_stride * seed,
                   progress=progress, deadline=deadline, jobs=jobs, windows=bound.windows)
    bundles = None if found.cycle_of is None else _pack(block.nodes,
                                                         block_graph.cycles(found.cycle_of))
    kept = (None if found.cycle_of is None
            else (block_graph.graph_nodes, found.cycle_of))
    return bundles, BlockReport(block.start, len(block.nodes), before, found.cost, bound,
                                found.how, found.passes, kept)


_ENGINE_RANK = {e: i for i, e in enumerate(isa.ENGINES)}


def _in_slot_order(nodes: list[OpNode]) -> list[OpNode]:
    """A bundle's nodes as its slots will be: engines in order, then the ops'
    original order (which keeps two stores to one address in theirs)."""
    rank = _ENGINE_RANK
    return sorted(nodes, key=lambda x: (rank[x.engine], x.index))


def _bundle(ordered: list[OpNode]) -> dict:
    out: dict[str, list] = {}
    for x in ordered:
        out.setdefault(x.engine, []).append(x.slot)
    return out


def schedule_kernel(kernel: Kernel, *, level: int = DEFAULT_LEVEL,
                    budget: float | None = None, jobs: int | None = None,
                    rename_words: Iterable[int] | str | None = None,
                    split: bool = True, seed: int = 0,
                    progress: Progress | None = None,
                    memo: BlockMemo | None = None) -> Schedule:
    """Schedule every block of a kernel; the result computes the same memory
    and trace buffer in no more cycles. The kernel's hints (`.restrict`,
    `.pin`, `.temp`; asm/kernel.py Hints) are followed, and the result keeps
    them, its pinned bundles where they moved to.

    `level`: 1, 2 or 3, as `vasm schedule -O` (asm/sched/search.py); at 3, `budget`
    is the seconds the whole schedule may take (DEFAULT_BUDGET). `jobs`: the
    cores the search may use (None: every core), as threads at -O1 and -O2
    (the result is the same for any number) and processes at -O3. `rename_words`:
    the words whose definitions may move to free scratch words first (None:
    the kernel's `.temp` words, if any), or "all" for any word (see
    asm/sched/rename.py). `split`:
    let vector ALU ops run as scalar lanes where that balances the ALUs
    (asm/sched/split.py). `seed`: the search's random choices (-O2 and -O3
    perturb the schedule): another seed, another schedule as good on average;
    the same seed, the same schedule at -O1 and -O2. `progress` is called with
    a line of text as the search improves. `memo`: where block schedules
    are kept between runs (see schedule_block).
    """
    if level not in LEVELS:
        raise ValueError(f"optimization level {level} is not one of {sorted(LEVELS)}")
    with gc_paused():  # an op node per op, and no reference cycles (test_gcpause.py)
        return _schedule_kernel(kernel, level, budget, jobs, rename_words, split, seed,
                                progress, memo)


def _schedule_kernel(kernel: Kernel, level: int, budget: float | None,
                     jobs: int | None, rename_words, split: bool, seed: int,
                     progress: Progress | None, memo: BlockMemo | None) -> Schedule:
    why = ControlFlow(kernel.program).unmovable
    if why is not None:
        return Schedule(kernel, note=f"{why}; nothing moves", level=level)
    started = time.monotonic()
    options = _Options(LEVELS[level], progress, jobs or workers(),
                       started + (DEFAULT_BUDGET if budget is None else budget), seed, memo)
    original = kernel
    if rename_words is None and kernel.hints.temps:
        rename_words = kernel.hints.temps
    if rename_words is not None:
        from .rename import rename
        kernel, _ = rename(kernel, None if rename_words == "all" else rename_words)
    result = _split_schedule(kernel, options) if split else None
    if result is None:
        result = _schedule_blocks(kernel, options)
    if result.after > sum(original.cycle_cost):  # renaming can only help; never lose
        return _schedule_blocks(original, options)
    return result


def _split_schedule(kernel: Kernel, options: _Options) -> Schedule | None:
    """The schedule with lane splitting or merging (asm/sched/split.py), when
    it is no worse than the one without; None when nothing changes or it is
    worse. The schedule without is made only when the split one misses the
    unsplit program's lower bound (otherwise it could not be better)."""
    split_kernel, moved = split_lanes(kernel)
    if not moved.changed:
        return None
    now = time.monotonic()
    half = replace(options, deadline=now + max(0.0, options.deadline - now) / 2)
    tried = _schedule_blocks(split_kernel, half)
    if tried.after > _resource_bound(kernel):
        found = blocks(kernel)
        if tried.after > _lower_bound(kernel, found):
            plain = _schedule_blocks(kernel, options, found)
            if plain.after <= tried.after:
                return plain
    tried.split = moved
    tried.written = sum(kernel.cycle_cost)
    return tried


@dataclass
class _Options:
    level: Level
    progress: Progress | None
    jobs: int
    deadline: float  # for -O3's open-ended search
    seed: int = 0
    memo: BlockMemo | None = None


def _schedule_blocks(kernel: Kernel, options: _Options,
                     found: list[Block] | None = None) -> Schedule:
    """`found`: the kernel's blocks, when already made."""
    program = kernel.program
    new_program: list[dict] = []
    new_ops_source: list[list[str | None]] = []  # each new bundle's ops' sources
    new_pc: dict[int, int] = {}  # old block start -> new pc
    origin: list[int] = []  # new pc -> an old pc (for relative jumps and sources)
    kept_at: dict[int, int] = {}  # old pc -> new pc, of bundles kept as written
    reports = []
    if found is None:
        found = blocks(kernel)
    ops_left = sum(len(b.nodes) for b in found)
    for i, block in enumerate(found):
        new_pc[block.start] = len(new_program)
        tell = None
        if options.progress is not None:
            def tell(text: str, i=i, block=block) -> None:
                options.progress(f"block {i + 1}/{len(found)} (pc {block.start}, "
                                 f"{len(block.nodes)} ops): {text}")
        # Each block's share of -O3's remaining time, by its ops.
        share = len(block.nodes) / ops_left if ops_left else 0.0
        ops_left -= len(block.nodes)
        now = time.monotonic()
        deadline = now + max(0.0, options.deadline - now) * share
        bundles, report = schedule_block(block, program, options.level, progress=tell,
                                         deadline=deadline, jobs=options.jobs,
                                         seed=options.seed, memo=options.memo)
        reports.append(report)
        if bundles is None:
            for pc in range(block.start, block.end):
                kept_at[pc] = len(new_program)
                new_program.append(program[pc])
                new_ops_source.append(kernel.op_sources(pc))
                origin.append(pc)
        else:
            for b in bundles:
                ordered = _in_slot_order(b)
                new_program.append(_bundle(ordered))
                new_ops_source.append([kernel.op_source_of(x.pc, x.at) for x in ordered])
                # A relative jump counts from its own old bundle.
                origin.append(next((x.pc for x in b if x.is_control), min(x.pc for x in b)))
    new_pc[len(program)] = len(new_program)
    for pc, bundle in enumerate(new_program):
        if "flow" in bundle:
            new_program[pc] = retarget(bundle, pc, origin[pc], new_pc, len(program),
                                       len(new_program))
    labels = {name: _map_pc(pc, new_pc, origin) for name, pc in kernel.labels.items()}
    source, op_source = None, None
    if kernel.source is not None:  # each bundle at its first op; every op at its own
        source = [ops[0] if ops else kernel.source[o] for ops, o in zip(new_ops_source, origin,
                                                                          strict=True)]
        op_source = [tuple(ops) if len(set(ops)) > 1 else None for ops in new_ops_source]
    # The slots are the input's, valid already; jumps were moved to bundles.
    hints = replace(kernel.hints, pinned=frozenset(kept_at[pc] for pc in kernel.hints.pinned))
    out = kernel.replace(program=new_program, labels=labels, source=source,
                         op_source=op_source, scheduled=options.level.number, hints=hints)
    return Schedule(out, reports, level=options.level.number)


def _resource_bound(kernel: Kernel) -> int:
    """A quick lower bound on the scheduler's cycles for the kernel: per
    block, its busiest engine's ops over its slots, or its cycles as written
    where those are fewer. (No dependences needed.)"""
    total = 0
    program = kernel.program
    for b in ControlFlow(program).blocks(kernel.hints.pinned):
        floor = resource_floor(engine_counts(program, b.start, b.end))
        written = sum(map(bundle_cost, program[b.start:b.end]))
        total += written if b.pinned else min(floor, written)
    return total


def _lower_bound(kernel: Kernel, found: list[Block]) -> int:
    """The fewest cycles the scheduler can give the kernel (`found`: its
    blocks): per block, its tight bound, or its cycles as written where those
    are fewer (a block as written may pack two writes of a word that the
    model orders)."""
    total = 0
    for b in found:
        written = b.original_cycles(kernel.program)
        try:
            total += min(bounds(BlockGraph(b.nodes).graph).tight, written) \
                if b.nodes and not b.pinned else written
        except Cyclic:
            total += written
    return total


def _map_pc(pc: int, new_pc: dict[int, int], origin: list[int]) -> int:
    if pc in new_pc:
        return new_pc[pc]
    return next((i for i, o in enumerate(origin) if o >= pc), len(origin))


def report(s: Schedule) -> str:
    """Cycles before and after, the bounds (asm/sched/bounds.py), per-engine
    utilization, and the blocks farthest from their tight bound."""
    program = s.kernel.program
    cycles = sum(s.kernel.cycle_cost)
    b = s.bounds
    gap = f"; {s.after / b.tight:.3f}x the tight bound" if b.tight else ""
    lines = [f"cycles: {s.before} as written, {s.after} scheduled at -O{s.level}{gap}",
             f"bounds of the scheduled program: {b.describe()}"]
    if s.note:
        lines.append(f"note: {s.note}")
    if s.split is not None:
        moved = s.split
        loads = (f"(alu {moved.before.get('alu', 0)} -> {moved.after.get('alu', 0)} ops, "
                 f"valu {moved.before.get('valu', 0)} -> {moved.after.get('valu', 0)})")
        if moved.moved:
            lines.append(f"lane splitting: {moved.moved} vector ops run lane by lane on the "
                         f"scalar ALU {loads}")
        if moved.merged:
            lines.append(f"lane merging: {moved.merged} groups of {isa.VLEN} scalar ALU ops "
                         f"run as one vector op each {loads}")
    lines.append(f"{'engine':<8}{'ops':>9}{'slots':>7}{'used':>8}{'floor':>8}")
    for e in isa.ENGINES:
        if e in isa.FREE_ENGINES:
            continue
        n = sum(len(bundle.get(e, ())) for bundle in program)
        if n:
            use = n / (isa.SLOT_LIMITS[e] * cycles) if cycles else 0.0
            lines.append(f"{e:<8}{n:>9}{isa.SLOT_LIMITS[e]:>7}{use:>8.1%}"
                         f"{-(-n // isa.SLOT_LIMITS[e]):>8}")
    shown = sorted((r for r in s.blocks if r.after), key=lambda r: (r.bound.tight - r.after,
                                                                   -r.after))[:REPORT_BLOCKS]
    if shown:
        which = (f" (the {len(shown)} farthest from their tight bound)"
                 if len(shown) < len(s.blocks) else "")
        lines.append(f"blocks{which}:")
        lines.append(f"  {'from pc':>7} {'ops':>7} {'written':>8} {'now':>7} {'resource':>9} "
                     f"{'critical':>9} {'tight':>7}  {'over':>4}  best found by")
        lines.append(f"  {'':>7} {'':>7} {'cycles':>8} {'cycles':>7} {'floor':>9} "
                     f"{'path':>9} {'bound':>7}  {'it':>4}")
        for r in sorted(shown, key=lambda r: r.start):
            bd = r.bound
            lines.append(f"  {r.start:>7} {r.ops:>7} {r.before:>8} {r.after:>7} "
                         f"{bd.resource:>9} {bd.critical:>9} {bd.tight:>7}  "
                         f"{r.after - bd.tight:>4}  {_found_by(r.kept)}")
        lines.append("  (tight bound: what each engine's ops need once the cycles before "
                     "and after them that their dependences force are counted)")
        for r in sorted(shown, key=lambda r: r.start):
            why = r.why_over()
            if why is not None:
                lines.append(f"block at pc {r.start} is {r.after / r.bound.tight - 1:.1%} over "
                             f"its tight bound: {why}")
    return "\n".join(lines)


def _found_by(how: str) -> str:
    """The search step that gave a block its schedule, in words (its steps:
    asm/sched/search.py)."""
    words = {"as written": "nothing beat the code as written", "pinned": ".pin: kept as written",
             "blamed": "moving the ops the schedule blamed", "re-planned": "re-planning",
             "cleared": "clearing the bounds' windows",
             "blamed (-O3)": "moving blamed ops, on every core (-O3)",
             "justified": "justifying (packing toward both ends)"}
    parts = how.split(" + ")
    return ", then ".join(words.get(p, f"a list pass from '{p}'" if i == 0 else p)
                          for i, p in enumerate(parts))


REPORT_BLOCKS = 8
