"""Flattening: a program as one op per bundle, in an order that keeps its meaning.

`flatten(kernel)` keeps each block's ops in their original order (reads of a
bundle before its writes, as the dependence edges say); with `rng` it picks a
random order among all those the dependences allow, so that a schedule found
afterwards owes nothing to the order the program was written in.
"""

from __future__ import annotations

import random

from . import isa
from .deps import blocks, has_indirect_jumps
from .kernel import Kernel
from .schedule import Cyclic, topological


def _random_order(nodes, rng: random.Random) -> list[int]:
    waiting = [len(n.preds) for n in nodes]
    ready = [n.index for n in nodes if waiting[n.index] == 0]
    order = []
    while ready:
        i = ready.pop(rng.randrange(len(ready)))
        order.append(i)
        for s in nodes[i].succs:
            waiting[s] -= 1
            if waiting[s] == 0:
                ready.append(s)
    if len(order) != len(nodes):
        raise Cyclic
    return order


def flatten(kernel: Kernel, rng: random.Random | None = None) -> Kernel:
    """One op per bundle (debug ops too), same results; jumps re-targeted."""
    program = kernel.program
    if has_indirect_jumps(program):
        raise ValueError("cannot flatten a program with jump_indirect (its targets are data)")
    out: list[dict] = []
    new_pc: dict[int, int] = {}
    origin: list[int] = []
    for block in blocks(kernel):
        new_pc[block.start] = len(out)
        try:
            if block.pinned or not block.nodes:
                raise Cyclic
            order = _random_order(block.nodes, rng) if rng else topological(block.nodes)
            if rng is None:
                order = sorted(order)  # original order is a valid order
        except Cyclic:  # keep such blocks as they are
            for pc in range(block.start, block.end):
                out.append(program[pc])
                origin.append(pc)
            continue
        for i in order:
            n = block.nodes[i]
            if n.is_sync:
                continue
            out.append({n.engine: [n.slot]})
            origin.append(n.pc)
    new_pc[len(program)] = len(out)
    for pc, bundle in enumerate(out):
        if "flow" in bundle:
            flow = []
            for slot in bundle["flow"]:
                control = isa.BY_MACHINE[("flow", slot[0])].control
                if control is isa.Control.JUMP:
                    slot = (slot[0], new_pc.get(slot[1], slot[1]))
                elif control is isa.Control.COND_JUMP:
                    slot = (slot[0], slot[1], new_pc.get(slot[2], slot[2]))
                elif control is isa.Control.COND_JUMP_REL:
                    t = origin[pc] + 1 + slot[2]
                    if t in new_pc:
                        slot = (slot[0], slot[1], new_pc[t] - (pc + 1))
                flow.append(slot)
            out[pc] = {"flow": flow}
    return Kernel(out, scratch=dict(kernel.scratch))
