"""Lane splitting: when the vector ALU is a block's bottleneck and the scalar
ALU has room, some lane-wise vector ops run as VLEN scalar ALU ops instead.

A vector ALU op whose ISA row says how its lanes run on the scalar ALU
(`Op.lanes_as`: every binary op, and `vbroadcast` as `s | s`) is replaced, in
its own bundle, by one scalar op per lane. The lanes keep the meaning the
vector op had: they stand in the same original bundle, whose reads all come
before its writes, so the dependence analysis (asm/sched/deps.py) orders them
exactly as it orders any packed code, and the scheduler is free to put each
lane in any cycle the dependences allow.

Which ops move is decided per block from the engines' loads: the fewest
moves that bring the block's resource bound (the busiest engine's ops over
its slots) to its lowest, spread evenly over the block so that both ALUs stay
busy throughout. A bundle only takes lanes while it stays within the scalar
ALU's slot limit, so the split program is a valid program that runs, as
written, in the same cycles as the original. `.pin` regions are untouched.
Whether the split program is kept is the scheduler's decision
(asm/sched/schedule.py): only when it schedules in fewer cycles.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .. import isa
from ..cfg import ControlFlow
from ..kernel import Kernel

VLEN = isa.VLEN


@dataclass
class SplitReport:
    moved: int = 0  # vector ops now run as VLEN scalar ops
    before: dict[str, int] = field(default_factory=dict)  # ops per engine
    after: dict[str, int] = field(default_factory=dict)


def lanes_of(op: isa.Op, slot: tuple) -> list[tuple] | None:
    """The VLEN alu slots a lane-wise valu slot runs as, or None."""
    if op.lanes_as is None:
        return None
    name, *args = op.lanes_as
    at = {o.name: (i + 1, o.kind.width) for i, o in enumerate(op.operands)}
    return [(name, *(slot[at[a][0]] + (lane if at[a][1] > 1 else 0) for a in args))
            for lane in range(VLEN)]


def _movable(bundle: dict, k: int) -> bool:
    """Whether valu slot k of the bundle may run as lanes: its op has a lane
    form, and no other slot of the bundle writes a word it writes (so the
    order of the bundle's writes cannot matter)."""
    slot = bundle["valu"][k]
    op = isa.BY_MACHINE[("valu", slot[0])]
    if op.lanes_as is None:
        return False
    mine = set(op.writes(slot))
    for engine, slots in bundle.items():
        for j, other in enumerate(slots):
            if (engine, j) != ("valu", k) and \
                    mine.intersection(isa.BY_MACHINE[(engine, other[0])].writes(other)):
                return False
    return True


def _moves(counts: dict[str, int]) -> int:
    """How many valu ops to move so the busiest engine's floor is lowest (the
    fewest that get there)."""
    caps = isa.SLOT_LIMITS
    v, a = counts.get("valu", 0), counts.get("alu", 0)
    others = max((-(-n // caps[e]) for e, n in counts.items()
                  if e not in ("alu", "valu") and e not in isa.FREE_ENGINES), default=0)

    def floor(k: int) -> int:
        return max(-(-(v - k) // caps["valu"]), -(-(a + VLEN * k) // caps["alu"]), others)

    best, best_k = floor(0), 0
    for k in range(1, v + 1):
        f = floor(k)
        if f < best:
            best, best_k = f, k
        elif -(-(a + VLEN * k) // caps["alu"]) > best:
            break  # the scalar ALU is now the busier: more only hurts
    return best_k


def split_lanes(kernel: Kernel, *, pinned: Iterable[int] = ()) -> tuple[Kernel, SplitReport]:
    """(the kernel with chosen vector ops split into lanes, what moved)."""
    program = kernel.program
    report = SplitReport()
    out = list(program)
    op_source = list(kernel.op_source) if kernel.op_source is not None \
        else [None] * len(program)
    alu_cap = isa.SLOT_LIMITS["alu"]
    for block in ControlFlow(program).blocks(set(pinned)):
        if block.pinned:
            continue
        counts: dict[str, int] = {}
        candidates: list[tuple[int, int]] = []  # (pc, index among the bundle's valu slots)
        for pc in range(block.start, block.end):
            for engine, slots in program[pc].items():
                counts[engine] = counts.get(engine, 0) + len(slots)
            room = (alu_cap - len(program[pc].get("alu", ()))) // VLEN
            for k in range(len(program[pc].get("valu", ()))):
                if room and _movable(program[pc], k):
                    candidates.append((pc, k))
                    room -= 1
        for e, n in counts.items():
            report.before[e] = report.before.get(e, 0) + n
        k = min(_moves(counts), len(candidates))
        if k == 0:
            continue
        # Evenly spread: the j-th of k moves takes the candidate at (j + 1/2) / k.
        chosen: dict[int, set[int]] = {}
        for j in range(k):
            pc, at = candidates[(2 * j + 1) * len(candidates) // (2 * k)]
            chosen.setdefault(pc, set()).add(at)
        for pc, which in chosen.items():
            out[pc], op_source[pc] = _split_bundle(kernel, pc, which)
            report.moved += len(which)
    for e, n in report.before.items():
        report.after[e] = n
    report.after["valu"] = report.after.get("valu", 0) - report.moved
    report.after["alu"] = report.after.get("alu", 0) + VLEN * report.moved
    if not report.moved:
        return kernel, report
    # The lanes are the table's own alu ops on words the vector op touched:
    # every slot is valid, and no bundle exceeds the alu limit.
    return Kernel.prevalidated(out, dict(kernel.scratch), dict(kernel.labels), kernel.source,
                               op_source=op_source, scheduled=kernel.scheduled,
                               renamed=kernel.renamed), report


def _split_bundle(kernel: Kernel, pc: int, which: set[int]) -> tuple[dict, tuple]:
    """Bundle `pc` with its valu slots numbered in `which` as lanes on the
    alu (after the alu's own slots), and each op's source (the lanes at their
    vector op's)."""
    bundle = kernel.program[pc]
    sources = iter(kernel.op_sources(pc))
    parts: dict[str, list[tuple[tuple, str | None]]] = {}
    lanes: list[tuple[tuple, str | None]] = []
    for engine, slots in bundle.items():
        kept = parts.setdefault(engine, [])
        for k, slot in enumerate(slots):
            src = next(sources)
            if engine == "valu" and k in which:
                op = isa.BY_MACHINE[("valu", slot[0])]
                lanes.extend((lane, src) for lane in lanes_of(op, slot))
            else:
                kept.append((slot, src))
    parts.setdefault("alu", []).extend(lanes)
    new = {e: [slot for slot, _ in ops] for e, ops in parts.items() if ops or bundle.get(e) == []}
    return new, tuple(src for e in new for _, src in parts[e])
