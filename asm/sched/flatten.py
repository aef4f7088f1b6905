"""Flattening: a program as one op per bundle, in an order that keeps its meaning.

`flatten(kernel)` keeps each block's ops in their original order (reads of a
bundle before its writes, as the dependence edges say); with `rng` it picks a
random order among all those the dependences allow, so that a schedule found
afterwards owes nothing to the order the program was written in.
"""

from __future__ import annotations

import random
from dataclasses import replace

from ..cfg import ControlFlow, retarget
from ..kernel import Kernel
from .deps import OpNode, blocks
from .graph import Cyclic


def topological(nodes: list[OpNode], rng: random.Random | None = None) -> list[int]:
    """An order of the nodes that respects every edge; with `rng`, a random one
    among all such orders."""
    waiting = [0] * len(nodes)  # each node's predecessors not placed yet
    for n in nodes:
        for s in n.succs:
            waiting[s] += 1
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


def flatten(kernel: Kernel, rng: random.Random | None = None) -> Kernel:
    """One op per bundle (debug ops too), same results; jumps re-targeted."""
    program = kernel.program
    flow = ControlFlow(program)
    why = flow.unmovable
    if why is not None:
        raise ValueError(f"cannot flatten: {why}")
    out: list[dict] = []
    new_pc: dict[int, int] = {}
    origin: list[int] = []
    where: dict[int, str | None] = {}  # the source of each flattened op
    kept_at: dict[int, int] = {}  # old pc -> new pc, of bundles kept as they are
    for block in blocks(kernel, flow=flow):
        new_pc[block.start] = len(out)
        try:
            if block.pinned or not block.nodes:
                raise Cyclic
            if rng is not None:
                order = topological(block.nodes, rng)
            elif all(s > n.index for n in block.nodes for s in n.succs):
                order = range(len(block.nodes))  # the original order already fits
            else:  # a jump written before other engines of its bundle must go last
                order = topological(block.nodes)
        except Cyclic:  # keep such blocks as they are
            for pc in range(block.start, block.end):
                kept_at[pc] = len(out)
                out.append(program[pc])
                origin.append(pc)
            continue
        for i in order:
            n = block.nodes[i]
            if n.is_sync:
                continue
            out.append({n.engine: [n.slot]})
            origin.append(n.pc)
            where[len(out) - 1] = kernel.op_source_of(n.pc, n.at)
    new_pc[len(program)] = len(out)
    for pc, bundle in enumerate(out):
        if "flow" in bundle:
            out[pc] = retarget(bundle, pc, origin[pc], new_pc, len(program), len(out))
    source = op_source = None
    if kernel.source is not None:
        source = [where.get(pc, kernel.source[o]) for pc, o in enumerate(origin)]
        op_source = [None if pc in where else kernel.op_source and kernel.op_source[o]
                     for pc, o in enumerate(origin)]
    # (a pinned bundle is a block of its own, kept as it is)
    hints = replace(kernel.hints, pinned=frozenset(kept_at[pc] for pc in kernel.hints.pinned))
    return Kernel(out, scratch=dict(kernel.scratch), source=source, op_source=op_source,
                  renamed=dict(kernel.renamed), hints=hints)
