"""Loop iterations replayed: a loop body whose lines only emit items (plain
ops, debug keys filled into templates, calls of macros made of such lines)
yields the same items whenever the names those lines mention have the same
values, but for the debug keys naming the loop variables, which are filled
in again. So one iteration's items are recorded by those values, and a later
iteration (of this run of the loop or another run of it, in an outer loop)
that meets the same values takes them whole instead of expanding the body
line by line. Replaying changes nothing in what expansion produces
(tests/test_reuse.py checks it against loops written out).
"""

from __future__ import annotations

from . import model as limits
from .model import MAX_PLANS, Item, SrcLine
from .plan import Plan, key_value


class Recording:
    """What is known of one loop body (by the identity of its lines)."""

    __slots__ = ("lines", "names", "version", "kept")

    def __init__(self, lines: list[SrcLine]) -> None:
        self.lines = lines  # (kept alive: the recording is found by their ids)
        # The names the body's items depend on (the filled keys' loop
        # variables aside), or None when the body cannot be replayed.
        self.names: tuple[str, ...] | None = None
        # The macro definitions (Expander.macro_version) `names` was worked
        # out under; -1: not yet.
        self.version = -1
        # (macro definitions, call depth, the names' values) -> an iteration:
        # (its items, (index, plan) of each filled item, macro calls, counter).
        self.kept: dict[tuple, tuple] = {}


class ReplayExpansion:
    """Part of `Expander` (asm/stages/expand/__init__.py), which holds the state these
    methods read: the environment, the output, the plans."""

    def recording(self, body: list[SrcLine]) -> Recording | None:
        """The recording of a loop body, made when the loop starts: by its
        lines and the loops running (which keys are filled in depends on
        them; a body's lines stand inside the same loops wherever they are
        met, but that is the source's shape, not this code's guarantee).
        None for a body of one line, which runs as fast as it would replay."""
        if len(body) < 2:
            return None
        sig = (tuple(map(id, body)), len(self.loops), frozenset(self.loop_vars))
        rec = self.recordings.get(sig)
        if rec is None:
            rec = self.recordings[sig] = Recording(body)
        return rec

    def iteration(self, rec: Recording) -> None:
        """One iteration of a loop body: replayed when it can be, else
        expanded line by line (and recorded, if it can be replayed later)."""
        env = self.out.env
        key = None
        if rec.names is not None and rec.version == self.macro_version:
            key = (self.macro_version, self.depth, *map(env.get, rec.names))
            got = rec.kept.get(key)
            if got is not None and self._replay(got):
                return
        items, filled = self.out.items, self.filled
        start, diags, mark = len(items), len(self.out.diagnostics), len(filled)
        calls, counter, unfilled = self.macro_calls, self.counter, self.unfilled
        self.recording_runs += 1
        try:
            self.run(rec.lines)
        finally:
            self.recording_runs -= 1
        if rec.version != self.macro_version:  # (first, or macros defined since)
            rec.version = self.macro_version
            rec.names = self._replay_names(rec.lines, 0)
            key = None if rec.names is None else \
                (self.macro_version, self.depth, *map(env.get, rec.names))
        # (a line that could not be filled in holds this iteration's key as it
        # is: the iteration cannot be replayed with other keys)
        if key is not None and len(self.out.diagnostics) == diags and not self.halted \
                and self.unfilled == unfilled and len(rec.kept) < MAX_PLANS:
            rec.kept[key] = (items[start:], [(i - start, plan) for i, plan in filled[mark:]],
                             self.macro_calls - calls, self.counter - counter)
        del filled[mark:]

    def _replay(self, got: tuple) -> bool:
        """Emit a recorded iteration, its debug keys filled in anew: whether
        it could (a key naming what is no number now, too many calls: no)."""
        recorded, holes, calls, counter = got
        if self.macro_calls + calls > limits.MAX_CALLS:
            return False  # (expanded line by line, the limit is reported)
        env = self.out.env
        keys = []
        for _, plan in holes:
            k = key_value(plan.key_node, env)
            if k is None:
                return False
            keys.append(k)
        items = self.out.items
        base = len(items)
        items.extend(recorded)
        for (i, _), k in zip(holes, keys, strict=True):
            it = items[base + i]
            items[base + i] = Item("stmt", it.node, it.src, it.pos, it.hole, k)
        self.macro_calls += calls
        self.counter += counter
        return True

    def _replay_names(self, lines: list[SrcLine], depth: int) -> tuple[str, ...] | None:
        """The names the items of `lines` depend on, or None when expanding
        them does more than emit items (or is not planned yet)."""
        if depth > limits.MAX_DEPTH:
            return None
        plans, ident, macros = self.reuse.plans, self.reuse.ident, self.out.macros
        names: dict[str, None] = {}
        for sl in lines:
            plan: Plan | None = plans.get(ident(sl))
            if plan is None:
                return None
            if plan.names is not None:
                if any(h in macros for h in plan.heads):
                    return None
                filled = plan.hole is not None and plan.fills is self.nest
                names.update(dict.fromkeys(plan.around if filled else plan.names))
            elif plan.call is not None:
                m = macros.get(plan.call.name)
                known = self.reuse.calls.get((ident(sl), plan.call.pos))
                if m is None or m.unique or known is None or known[0] is not m:
                    return None
                inner = self._replay_names(known[1], depth + 1)
                if inner is None:
                    return None
                names.update(dict.fromkeys(inner))
            else:
                return None
        return tuple(names)
