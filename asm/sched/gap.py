"""Why a schedule is longer than its tight bound, in words.

The tight bound (asm/sched/bounds.py) looks at one engine at a time: its ops,
the cycles before them that dependences force, and the chain after them.
What it cannot see is work handed between engines in phases: loads that wait
for stores (memory order), then a chain of ALU work, then loads again. The
schedule shows where that costs: its longest chain, walked back from its
last op, at each op either waiting for a slot of its engine (the engine was
full of other work) or held by a dependence. The kinds of dependence on the
chain, and the engines it waited for, name the constraint the bound missed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .deps import OpNode
from .graph import ENGINE_NAMES, Graph

GAP_SHOWN = 0.02  # the report explains blocks at least this far over their tight bound

KINDS = {"data": "data", "reuse": "reused scratch words", "memory": "memory order",
         "control": "the block's jump", "order": "trace order"}


def edge_kind(u: OpNode, v: OpNode) -> str:
    """Why `v` follows `u`: "data" (it reads what u writes), "memory" (a load
    and a store that may touch the same words, or a sync node standing for
    many), "reuse" (it writes a word u reads or writes: the word is reused),
    "control" (v ends the block) or "order" (the trace buffer's)."""
    if set(u.writes) & set(v.reads):
        return "data"
    if u.is_sync or v.is_sync or (u.op.memory is not None and v.op.memory is not None):
        return "memory"
    if set(v.writes) & (set(u.reads) | set(u.writes)):
        return "reuse"
    if v.is_control:
        return "control"
    return "order"


@dataclass
class Chain:
    """The schedule's longest chain: the cycles its ops waited for slots, per
    engine, and the cycles and steps of each kind of dependence on it."""

    length: int
    waits: Counter = field(default_factory=Counter)  # engine -> cycles waited for a slot
    cycles: Counter = field(default_factory=Counter)  # dependence kind -> latency cycles
    steps: Counter = field(default_factory=Counter)  # dependence kind -> edges on the chain
    barriers: int = 0  # memory-order steps out of a store or a sync node


def longest_chain(g: Graph, nodes: Sequence[OpNode], cycle_of: np.ndarray) -> Chain:
    """Walk the schedule back from its last op, at each op to the predecessor
    that let it go last (the one whose result it waited for longest)."""
    c = np.asarray(cycle_of, dtype=np.int64)
    costly = g.costly_array
    if not len(costly):
        return Chain(0)
    rev = g.reverse
    offsets, preds, lats = rev.offsets, rev.targets, rev.lats
    i = int(costly[np.argmax(c[costly])])
    chain = Chain(int(c[i]) + 1)
    engine = g.engine_array
    while True:
        lo, hi = int(offsets[i]), int(offsets[i + 1])
        if lo == hi:
            if c[i] > 0:
                chain.waits[ENGINE_NAMES[engine[i]]] += int(c[i])
            return chain
        arrive = c[preds[lo:hi]] + lats[lo:hi]
        k = int(np.argmax(arrive))
        if c[i] > arrive[k]:
            chain.waits[ENGINE_NAMES[engine[i]]] += int(c[i] - arrive[k])
        p = int(preds[lo + k])
        kind = edge_kind(nodes[p], nodes[i])
        chain.cycles[kind] += int(lats[lo + k])
        chain.steps[kind] += 1
        if kind == "memory" and (nodes[p].is_sync or nodes[p].op.memory == "write"):
            chain.barriers += 1
        i = p


def explain(chain: Chain) -> str:
    """The chain in one paragraph: what it is made of, and the constraint the
    tight bound does not see."""
    waited = sum(chain.waits.values())
    held = sum(chain.cycles.values())
    parts = ", ".join(f"{n} through {KINDS[k]}" for k, n in chain.cycles.most_common() if n)
    slots = ", ".join(f"{e} {n}" for e, n in chain.waits.most_common() if n)
    text = (f"its longest chain ({chain.length} cycles) spends {held} on dependences"
            f"{f' ({parts})' if parts else ''} and {waited} waiting for slots"
            f"{f' ({slots})' if slots else ''}")
    top = chain.waits.most_common(1)[0][0] if waited else None
    steps = sum(chain.steps.values()) or 1
    if chain.barriers >= 4 and chain.waits["load"] >= 0.25 * waited:
        why = (f"memory order cuts the loads into {chain.barriers + 1} phases (loads whose "
               "addresses are data wait for every store before them), and the tight bound "
               "counts each engine's work as one stretch (.restrict tells the scheduler "
               "which regions cannot alias)")
    elif chain.steps["reuse"] >= 0.1 * steps:
        why = (f"{chain.steps['reuse']} of its steps wait for a scratch word to be free for "
               "its next value, which the tight bound does not count (--rename, or .temp "
               "for the words, gives the values words of their own)")
    elif top is not None:
        why = (f"along it dependences and full {top} slots delay each other in turn, which "
               "the tight bound, counting the chain and each engine's work on their own, "
               "cannot see")
    else:
        why = "the chain is dependences alone, which the tight bound counts: the search " \
              "fell short of it"
    return f"{text}; {why}"
