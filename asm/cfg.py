"""The control-flow view of a program: its jumps, their targets, its basic
blocks and entry block, and how jumps follow blocks that move.

One object answers every control-flow question the tools ask (the scheduler,
the dependence analysis, flattening, the linter, the disassembler, traces),
from the ISA table's operand kinds: a `TARGET` operand is an absolute bundle
index, an `OFFSET` operand counts from the bundle after its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from . import isa

K = isa.Kind


@dataclass(frozen=True, slots=True)
class Jump:
    """One direct jump: the bundle and flow slot it sits in, and where it goes."""

    pc: int
    slot: int  # index in the bundle's flow list
    op: isa.Op
    target: int  # absolute bundle index (a relative jump's resolved)


def slot_target(op: isa.Op, slot: Sequence, pc: int) -> int | None:
    """The absolute bundle a direct jump slot goes to, or None for other ops."""
    for operand, value in zip(op.operands, slot[1:], strict=False):
        if operand.kind is K.TARGET:
            return value
        if operand.kind is K.OFFSET:
            return pc + 1 + value
    return None


@dataclass(frozen=True, slots=True)
class BlockRange:
    start: int  # first pc
    end: int  # one past the last pc
    pinned: bool = False  # emitted exactly as written


class ControlFlow:
    """Jumps, targets and basic blocks of one program (bundles of slots whose
    ops are in the ISA table)."""

    def __init__(self, program: Sequence[Mapping[str, Sequence]],
                 pcs: Iterable[int] | None = None) -> None:
        """`pcs`, when known: the only bundles with flow ops (the rest are
        not looked at)."""
        self.length = len(program)
        self.jumps: list[Jump] = []
        self.indirect: list[int] = []  # pcs of jump_indirect
        self.ends: set[int] = set()  # pcs whose bundle has a control op
        self.stops: set[int] = set()  # pcs that never fall through (jump, halt)
        if pcs is None:  # (most bundles have no flow ops: skipped without a lookup each)
            pcs = [pc for pc, bundle in enumerate(program) if "flow" in bundle]
        for pc in pcs:
            for i, slot in enumerate(program[pc].get("flow", ())):
                op = isa.BY_MACHINE[("flow", slot[0])]
                if op.control is None:
                    continue
                self.ends.add(pc)
                if op.control in (isa.Control.JUMP, isa.Control.HALT):
                    self.stops.add(pc)
                if op.control is isa.Control.JUMP_INDIRECT:
                    self.indirect.append(pc)
                    continue
                target = slot_target(op, slot, pc)
                if target is not None:
                    self.jumps.append(Jump(pc, i, op, target))

    @cached_property
    def targets(self) -> frozenset[int]:
        """Every pc some direct jump can reach."""
        return frozenset(j.target for j in self.jumps)

    def outside(self) -> list[Jump]:
        """Jumps whose target is outside 0..length (length itself ends the run)."""
        return [j for j in self.jumps if not 0 <= j.target <= self.length]

    @property
    def unmovable(self) -> str | None:
        """Why the bundles must keep their pcs, or None: `jump_indirect` targets
        are data, and a negative target indexes the program from its end."""
        if self.indirect:
            return "the program has jump_indirect: its targets are values in scratch"
        if any(t < 0 for t in self.targets):
            return "a jump goes to a negative pc, which counts from the program's end"
        return None

    def blocks(self, pinned: Iterable[int] = ()) -> list[BlockRange]:
        """Basic blocks: they start at jump targets and after control flow
        (jumps, halt, pause); pinned bundles stand alone."""
        pinned = set(pinned)
        n = self.length
        starts = {0} | {t for t in self.targets if 0 <= t < n} | {pc + 1 for pc in self.ends}
        for pc in pinned:
            starts.update((pc, pc + 1))
        edges = sorted(s for s in starts if s <= n) + [n]
        return [BlockRange(a, b, a in pinned) for a, b in zip(edges, edges[1:], strict=False)
                if a < b]

    @property
    def entry_end(self) -> int:
        """One past the entry block, which nothing jumps back into (0 when a
        jump targets pc 0, so there is no such block)."""
        if 0 in self.targets or not self.length:
            return 0
        return self.blocks()[0].end

    def reachable(self) -> list[bool] | None:
        """Whether each bundle can run, or None when that depends on data
        (indirect or negative jumps). A bundle runs when something jumps to
        it or the bundle before falls through to it."""
        if self.unmovable:
            return None
        out = []
        falls = True
        for pc in range(self.length):
            here = falls or pc in self.targets
            out.append(here)
            falls = here and pc not in self.stops
        return out


def retarget(bundle: Mapping[str, list], pc: int, old_pc: int, new_pc: Mapping[int, int],
             old_len: int, new_len: int) -> dict:
    """A bundle's jumps, after its block moved from `old_pc` to `pc` and every
    block start moved as `new_pc` says (old start -> new pc). A target past
    the end stays the same distance past the new end."""
    def move(t: int) -> int:
        return new_pc[t] if t in new_pc else (new_len + t - old_len if t >= old_len else t)

    flow = []
    for slot in bundle["flow"]:
        op = isa.BY_MACHINE[("flow", slot[0])]
        new = list(slot)
        for i, operand in enumerate(op.operands, start=1):
            if operand.kind is K.TARGET:
                new[i] = move(slot[i])
            elif operand.kind is K.OFFSET:
                new[i] = move(old_pc + 1 + slot[i]) - (pc + 1)
        flow.append(tuple(new))
    return {**bundle, "flow": flow}
