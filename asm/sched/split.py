"""Lane splitting: when the vector ALU is a block's bottleneck and the scalar
ALU has room, some lane-wise vector ops run as scalar ALU ops, lane by lane.

A vector ALU op whose ISA row says how its lanes run on the scalar ALU
(`Op.lanes_as`: every binary op as itself, `vbroadcast` as `s | s`,
`multiply_add` as a multiply then an add) is replaced by its lanes. A
one-step form stands in the vector op's own bundle; the second step of
`multiply_add` in a bundle of its own right after it (the multiply's product
must be written before the add reads it). Either way the lanes keep the
meaning the vector op had: a bundle's reads all come before its writes, so
the dependence analysis (asm/sched/deps.py) orders them exactly as it orders
any packed code, and the scheduler is free to put each lane in any cycle the
dependences allow. The product goes to the destination's own lane, or, when
the destination overlaps the addend, to a free scratch word.

Which ops move is decided per block from the engines' loads: the fewest
moves that bring the block's resource bound (the busiest engine's ops over
its slots) to its lowest, spread evenly over the block so that both ALUs stay
busy throughout. One-step ops go first (they add no op); `multiply_add`s only
when those run out. A bundle only takes lanes while it stays within the
scalar ALU's slot limit, so the split program is a valid program. `.pin`
regions are untouched. Whether the split program is kept is the scheduler's
decision (asm/sched/schedule.py): only when it schedules in fewer cycles.

Lane merging is the other way round, for a block the scalar ALU bounds:
groups of VLEN scalar ops that are the lanes of one vector op (`lane_groups`)
become that op. Both are one decision per block (`split_lanes`): a block is
bound by one ALU or the other, not both.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .. import isa
from ..cfg import ControlFlow, retarget
from ..kernel import Kernel
from .bounds import engine_counts, resource_floor

VLEN = isa.VLEN
TEMP_SETS = 8  # sets of VLEN free words for multiply_add products, used in turn


@dataclass
class SplitReport:
    moved: int = 0  # vector ops now run on the scalar ALU, lane by lane
    merged: int = 0  # groups of VLEN scalar lanes now run as one vector op
    before: dict[str, int] = field(default_factory=dict)  # ops per engine
    after: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.moved or self.merged)


def needs_temp(op: isa.Op, slot: tuple) -> bool:
    """Whether a lane's carried value ("t") cannot live in the destination's
    own lane: the destination overlaps an operand a later step reads."""
    later = _LATER.get((op.engine, op.name))
    if later is None:
        later = _LATER[(op.engine, op.name)] = _read_later(op)
    if not later:
        return False
    width = op.operands[0].kind.width
    dest = slot[1]
    return any(slot[i] < dest + width and dest < slot[i] + w for i, w in later)


_LATER: dict[tuple[str, str], tuple[tuple[int, int], ...]] = {}  # op -> _read_later(op)


def _read_later(op: isa.Op) -> tuple[tuple[int, int], ...]:
    """(slot index, width) of each operand but the destination that a lane
    form's later steps read (none for a form of one step)."""
    steps = op.lanes_as or ()
    names = {a for step in steps[1:] for a in step[1:] if a not in ("t", op.operands[0].name)}
    return tuple((i, o.kind.width) for i, o in enumerate(op.operands, 1) if o.name in names)


def lane_steps(op: isa.Op, slot: tuple, temps: list[int] | None = None
               ) -> list[list[tuple]] | None:
    """The alu slots a lane-wise valu slot runs as, per step (one bundle
    each), or None. `temps`: VLEN free words for the carried value, needed
    when `needs_temp`."""
    if op.lanes_as is None:
        return None
    carried = needs_temp(op, slot)
    if carried and temps is None:
        return None
    at = {o.name: (i + 1, o.kind.width) for i, o in enumerate(op.operands)}

    def words(name: str) -> list[int]:
        """Operand `name`'s word in each lane ("t": the carried value's)."""
        if name == "t":
            if carried:
                return [temps[lane] for lane in range(VLEN)]
            name = op.operands[0].name  # it lives in the destination's own lanes
        index, width = at[name]
        base = slot[index]
        return [base + lane for lane in range(VLEN)] if width > 1 else [base] * VLEN

    # (built operand by operand: this runs for every slot the split moves)
    return [[(name, *lane) for lane in zip(*map(words, args), strict=True)]
            for name, *args in op.lanes_as]


def lanes_of(op: isa.Op, slot: tuple) -> list[tuple] | None:
    """The VLEN alu slots of a one-step lane form (None for any other op)."""
    steps = lane_steps(op, slot)
    return steps[0] if steps is not None and len(steps) == 1 else None


def _movable(bundle: dict, k: int) -> bool:
    """Whether valu slot k of the bundle may run as lanes: its op has a lane
    form; no other slot of the bundle writes a word it writes (so the order
    of the bundle's writes cannot matter); and for a form of several steps,
    no other slot writes a word it reads (a later step reads after the
    bundle) and the bundle holds no control flow (the later steps follow it
    in its block)."""
    slot = bundle["valu"][k]
    op = isa.BY_MACHINE[("valu", slot[0])]
    if op.lanes_as is None:
        return False
    if len(bundle) == 1 and len(bundle["valu"]) == 1:  # (alone: nothing to clash with)
        return True
    mine = set(op.writes(slot))
    if len(op.lanes_as) > 1:
        if any(isa.BY_MACHINE[("flow", s[0])].control is not None
               for s in bundle.get("flow", ())):
            return False
        mine.update(op.reads(slot))
    for engine, slots in bundle.items():
        for j, other in enumerate(slots):
            if (engine, j) != ("valu", k) and \
                    mine.intersection(isa.BY_MACHINE[(engine, other[0])].writes(other)):
                return False
    return True


MIN_GAIN = 0.01  # of the floor: a split that lowers it less is not tried


def _moves(counts: dict[str, int], extra: int = 0) -> int:
    """How many valu ops to move so the busiest engine's floor is lowest (the
    fewest that get there), or 0 when that lowers it by less than MIN_GAIN
    (on four engines near saturation the packing itself loses more than
    that, and trying costs a second schedule); `extra`: alu ops each move
    adds beyond VLEN."""
    caps = isa.SLOT_LIMITS
    v, a = counts.get("valu", 0), counts.get("alu", 0)
    per = VLEN + extra
    others = resource_floor({e: n for e, n in counts.items() if e not in ("alu", "valu")})

    def floor(k: int) -> int:
        return max(-(-(v - k) // caps["valu"]), -(-(a + per * k) // caps["alu"]), others)

    start = best = floor(0)
    best_k = 0
    for k in range(1, v + 1):
        f = floor(k)
        if f < best:
            best, best_k = f, k
        elif -(-(a + per * k) // caps["alu"]) > best:
            break  # the scalar ALU is now the busier: more only hurts
    return best_k if start - best >= max(1, MIN_GAIN * start) else 0


def _merges(counts: dict[str, int]) -> int:
    """How many groups of VLEN scalar lanes to run as one vector op each so the
    busiest engine's floor is lowest (the fewest that get there), or 0 when
    that lowers it by less than MIN_GAIN: `_moves` the other way round."""
    caps = isa.SLOT_LIMITS
    v, a = counts.get("valu", 0), counts.get("alu", 0)
    others = resource_floor({e: n for e, n in counts.items() if e not in ("alu", "valu")})

    def floor(k: int) -> int:
        return max(-(-(v + k) // caps["valu"]), -(-(a - VLEN * k) // caps["alu"]), others)

    start = best = floor(0)
    best_k = 0
    for k in range(1, a // VLEN + 1):
        f = floor(k)
        if f < best:
            best, best_k = f, k
        elif -(-(v + k) // caps["valu"]) > best:
            break  # the vector ALU is now the busier: more only hurts
    return best_k if start - best >= max(1, MIN_GAIN * start) else 0


@dataclass(frozen=True)
class LaneGroup:
    """VLEN scalar ALU slots that are the lanes of one vector op: lane i is
    (op, d + i, a + i, b + i). They stand in bundles first..last, which hold
    nothing else unless first == last."""

    first: int
    last: int
    vector: tuple  # the valu slot they become


def _as_group(slots: list[tuple], at: list[int]) -> tuple | None:
    """The valu slot whose lanes (`lanes_of`, from the ISA table) are exactly
    these VLEN alu slots (slot k in bundle at[k]), if any, and if running them
    at once reads what running them as written reads: no lane reads a word a
    lane of an earlier bundle wrote."""
    if len(slots) != VLEN:
        return None
    twin = isa.BY_MACHINE.get(("valu", slots[0][0]))
    if twin is None or len(twin.lanes_as or ()) != 1 or len(slots[0]) != 4:
        return None
    first = min(slots, key=lambda s: s[1])  # the lane of the lowest destination word
    vector = tuple(first)
    if any(w + VLEN > isa.SCRATCH_SIZE for w in vector[1:]):
        return None
    if set(lanes_of(twin, vector)) != {tuple(s) for s in slots}:
        return None
    alu = isa.BY_MACHINE[("alu", vector[0])]
    for x in range(VLEN):
        written = set(alu.writes(slots[x]))
        if any(at[x] < at[y] and written.intersection(alu.reads(slots[y]))
               for y in range(VLEN)):
            return None
    return vector


def _written_elsewhere(bundle: dict, words: set[int], lanes) -> bool:
    """Whether a slot of the bundle other than `lanes` writes one of `words`
    (the order of the bundle's writes would then matter)."""
    lanes = list(lanes)
    for engine, slots in bundle.items():
        for slot in slots:
            if engine == "alu" and any(slot is x for x in lanes):
                continue
            if words.intersection(isa.BY_MACHINE[(engine, slot[0])].writes(slot)):
                return True
    return False


def lane_groups(program, start: int, end: int) -> list[LaneGroup]:
    """Groups of VLEN scalar lanes in bundles start..end-1 that may run as one
    vector op: all in one bundle (with room for a valu slot), or in a run of
    consecutive bundles holding nothing but them (as a `.for lane` loop of
    scalar ops assembles)."""
    out: list[LaneGroup] = []
    valu_cap = isa.SLOT_LIMITS["valu"]
    pc = start
    while pc < end:
        bundle = program[pc]
        alu = bundle.get("alu", ())
        # one bundle: its alu slots in runs of VLEN that form a group
        if len(alu) >= VLEN and len(bundle.get("valu", ())) < valu_cap:
            room = valu_cap - len(bundle.get("valu", ()))
            for k in range(0, len(alu) - VLEN + 1, VLEN):
                vector = _as_group(list(alu[k:k + VLEN]), [pc] * VLEN)
                if vector is not None and room and not _written_elsewhere(
                        bundle, set(range(vector[1], vector[1] + VLEN)), alu[k:k + VLEN]):
                    out.append(LaneGroup(pc, pc, vector))
                    room -= 1
        # a run of bundles of nothing but alu lanes
        run: list[tuple] = []
        where: list[int] = []
        q = pc
        while q < end and set(program[q]) == {"alu"} and len(run) < VLEN:
            run.extend(program[q]["alu"])
            where.extend([q] * len(program[q]["alu"]))
            q += 1
        if q - pc > 1 and len(run) == VLEN:
            vector = _as_group(run, where)
            if vector is not None:
                out.append(LaneGroup(pc, q - 1, vector))
                pc = q
                continue
        pc += 1
    return out


def _merge(kernel: Kernel, groups: list[LaneGroup], report: SplitReport) -> Kernel:
    """The kernel with each group's lanes as its vector op, in the group's first
    bundle (the run's other bundles left empty: they cost no cycle, and no pc
    moves). The vector op's source line is its first lane's."""
    program = list(kernel.program)
    op_source: list = [kernel.op_sources(pc) for pc in range(len(program))]
    for g in groups:
        left = {(g.vector[0], g.vector[1] + i, g.vector[2] + i, g.vector[3] + i)
                for i in range(VLEN)}
        first = program[g.first]
        parts: dict[str, list[tuple[tuple, str | None]]] = {}
        lane_src = None
        slot_sources = iter(op_source[g.first])
        for engine, slots in first.items():
            kept = parts.setdefault(engine, [])
            for slot in slots:
                src = next(slot_sources)
                if engine == "alu" and tuple(slot) in left:
                    left.discard(tuple(slot))
                    lane_src = lane_src if lane_src is not None else src
                else:
                    kept.append((slot, src))
        parts.setdefault("valu", []).append((g.vector, lane_src))
        new = {e: ops for e, ops in parts.items() if ops or first.get(e) == []}
        program[g.first] = {e: [s for s, _ in ops] for e, ops in new.items()}
        op_source[g.first] = [src for ops in new.values() for _, src in ops]
        for pc in range(g.first + 1, g.last + 1):
            program[pc] = {}
            op_source[pc] = []
        report.merged += 1
        report.after["alu"] = report.after.get("alu", 0) - VLEN
        report.after["valu"] = report.after.get("valu", 0) + 1
    own = kernel.source
    compact = [None if own is not None and all(x == own[pc] for x in srcs) else tuple(srcs)
               for pc, srcs in enumerate(op_source)]
    if all(x is None or not any(x) for x in compact):
        compact = None
    return kernel.replace(program=program, op_source=compact)


def _spread(candidates: list, k: int) -> list:
    """k of the candidates, evenly spread: the j-th at (j + 1/2) / k."""
    return [candidates[(2 * j + 1) * len(candidates) // (2 * k)] for j in range(k)]


def split_lanes(kernel: Kernel) -> tuple[Kernel, SplitReport]:
    """(the kernel with chosen vector ops split into lanes, what moved)."""
    program = kernel.program
    report = SplitReport()
    temp_sets = _temp_sets(kernel)
    alu_cap = isa.SLOT_LIMITS["alu"]
    chosen: dict[int, set[int]] = {}  # pc -> valu slots to split
    merges: list[LaneGroup] = []  # groups of scalar lanes to run as vector ops
    for block in ControlFlow(program).blocks(kernel.hints.pinned):
        if block.pinned:
            continue
        counts = engine_counts(program, block.start, block.end)
        one_step: list[tuple[int, int]] = []  # (pc, index among the bundle's valu slots)
        two_step: list[tuple[int, int]] = []
        for pc in range(block.start, block.end):
            bundle = program[pc]
            room = (alu_cap - len(bundle.get("alu", ()))) // VLEN
            for k in range(len(bundle.get("valu", ()))):
                if room and _movable(bundle, k):
                    slot = bundle["valu"][k]
                    op = isa.BY_MACHINE[("valu", slot[0])]
                    if len(op.lanes_as) == 1:
                        one_step.append((pc, k))
                    elif not needs_temp(op, slot) or temp_sets:
                        two_step.append((pc, k))
                    else:
                        continue
                    room -= 1
        for e, n in counts.items():
            report.before[e] = report.before.get(e, 0) + n
        k = _moves(counts)
        if not k:  # the other way round, when the scalar ALU is the busier
            groups = lane_groups(program, block.start, block.end)
            m = _merges(counts)
            for group in _spread(groups, min(m, len(groups))) if m else []:
                merges.append(group)
        picked = _spread(one_step, min(k, len(one_step))) if k else []
        if k > len(one_step) and two_step:
            # (each multiply_add adds VLEN more alu ops: count again)
            counts = {**counts, "valu": counts.get("valu", 0) - len(picked),
                      "alu": counts.get("alu", 0) + VLEN * len(picked)}
            picked += _spread(two_step, min(_moves(counts, extra=VLEN), len(two_step)))
        for pc, at in picked:
            chosen.setdefault(pc, set()).add(at)
    for e, n in report.before.items():
        report.after[e] = n
    if merges:
        kernel = _merge(kernel, merges, report)
    if not chosen:
        return kernel, report
    return _apply(kernel, chosen, temp_sets, report), report


def _temp_sets(kernel: Kernel) -> list[list[int]]:
    """Sets of VLEN scratch words no op touches and no symbol names."""
    from .rename import free_words
    free = free_words(kernel)
    return [free[i * VLEN:(i + 1) * VLEN] for i in range(min(TEMP_SETS, len(free) // VLEN))]


def split_slots(kernel: Kernel, chosen: dict[int, set[int]]) -> Kernel:
    """The kernel with exactly the `chosen` valu slots ({pc: slot indices})
    as lanes, each of which must be `_movable` (for tests and tools; the
    scheduler's own choice is `split_lanes`)."""
    report = SplitReport()
    return _apply(kernel, chosen, _temp_sets(kernel), report)


def _apply(kernel: Kernel, chosen: dict[int, set[int]], temp_sets: list[list[int]],
           report: SplitReport) -> Kernel:
    """The kernel with the chosen slots as lanes; second steps in new bundles
    right after their own, jumps and labels moved to match."""
    program = kernel.program
    out: list[dict] = []
    op_source: list[tuple | None] = []
    source: list[str | None] | None = [] if kernel.source is not None else None
    origin: list[int] = []  # new pc -> old pc
    new_pc: dict[int, int] = {}
    turn = 0
    for pc, bundle in enumerate(program):
        new_pc[pc] = len(out)
        if pc not in chosen:
            out.append(bundle)
            op_source.append(kernel.op_source[pc] if kernel.op_source is not None else None)
            origin.append(pc)
            if source is not None:
                source.append(kernel.source[pc])
            continue
        sources = iter(kernel.op_sources(pc))
        parts: dict[str, list[tuple[tuple, str | None]]] = {}
        first: list[tuple[tuple, str | None]] = []
        later: list[tuple[tuple, str | None]] = []
        for engine, slots in bundle.items():
            kept = parts.setdefault(engine, [])
            for k, slot in enumerate(slots):
                src = next(sources)
                if engine != "valu" or k not in chosen[pc]:
                    kept.append((slot, src))
                    continue
                op = isa.BY_MACHINE[("valu", slot[0])]
                temps = None
                if needs_temp(op, slot):
                    temps = temp_sets[turn % len(temp_sets)]
                    turn += 1
                steps = lane_steps(op, slot, temps)
                first.extend((lane, src) for lane in steps[0])
                for step in steps[1:]:  # (two steps at most in the table)
                    later.extend((lane, src) for lane in step)
                report.moved += 1
                report.after["valu"] = report.after.get("valu", 0) - 1
                report.after["alu"] = report.after.get("alu", 0) + sum(map(len, steps))
        parts.setdefault("alu", []).extend(first)
        new = {e: [s for s, _ in ops] for e, ops in parts.items() if ops or bundle.get(e) == []}
        here = [src for e in new for _, src in parts[e]]
        out.append(new)
        own = kernel.source[pc] if kernel.source is not None else None
        op_source.append(None if all(x == own for x in here) else tuple(here))
        origin.append(pc)
        if source is not None:
            source.append(own)
        if later:  # the second step, in a bundle of its own (12 alu slots take one
            # set of 8 lanes, so a bundle has one split op at most)
            out.append({"alu": [slot for slot, _ in later]})
            srcs = [src for _, src in later]
            op_source.append(None if len(set(srcs)) == 1 else tuple(srcs))
            origin.append(pc)
            if source is not None:
                source.append(srcs[0])
    new_pc[len(program)] = len(out)
    if len(out) != len(program):  # second steps were inserted: jumps follow
        for pc, bundle in enumerate(out):
            if "flow" in bundle:
                out[pc] = retarget(bundle, pc, origin[pc], new_pc, len(program), len(out))
    labels = {name: new_pc[pc] for name, pc in kernel.labels.items()}
    scratch = dict(kernel.scratch)
    for i, words in enumerate(temp_sets[:turn]):
        scratch[words[0]] = (f"lane.t{i}", 1)
        for j, w in enumerate(words[1:], 1):
            scratch[w] = (f"lane.t{i}.{j}", 1)
    # The lanes are the table's own alu ops on words the vector op touched
    # (or free ones): every slot is valid, and no bundle exceeds the alu limit.
    hints = replace(kernel.hints, pinned=frozenset(new_pc[pc] for pc in kernel.hints.pinned))
    return kernel.replace(program=out, scratch=scratch, labels=labels, source=source,
                          op_source=op_source, hints=hints)
