"""`vasm diff --engines`: two schedules of one program side by side, engine
by engine: how full each engine is in each window of cycles, and where the
longer schedule loses its cycles (the head, before the engines are busy;
the steady state; the tail, where the last groups drain).

Each schedule is read as written, every bundle once (a program with loops
is compared bundle for bundle, not as it runs).
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import isa
from ..kernel import Kernel, bundle_cost

ENGINES = tuple(e for e in isa.ENGINES if e not in isa.FREE_ENGINES)
EDGE = 0.1  # the head and the tail: this share of a schedule's cycles at each end


@dataclass(frozen=True)
class Occupancy:
    """Slots each engine uses in each cycle of a schedule (cycles that cost)."""

    used: dict[str, list[int]]
    cycles: int

    @classmethod
    def of(cls, kernel: Kernel) -> Occupancy:
        used: dict[str, list[int]] = {e: [] for e in ENGINES}
        for bundle in kernel.program:
            if not bundle_cost(bundle):
                continue
            for e in ENGINES:
                used[e].append(len(bundle.get(e, ())))
        return cls(used, sum(map(bundle_cost, kernel.program)))

    def idle(self, engine: str, first: int, end: int) -> float:
        """Cycles of `engine`'s work its idle slots in first..end-1 are worth."""
        cap = isa.SLOT_LIMITS[engine]
        used = self.used[engine][first:end]
        return (cap * len(used) - sum(used)) / cap

    def share(self, engine: str, first: int, end: int) -> float | None:
        used = self.used[engine][first:end]
        return sum(used) / (isa.SLOT_LIMITS[engine] * len(used)) if used else None

    def ops(self, engine: str) -> int:
        return sum(self.used[engine])


def busy_engines(a: Occupancy, b: Occupancy, within: float = 0.5) -> list[str]:
    """The engines whose ops need at least `within` of the busiest one's cycles."""
    need = {e: max(a.ops(e), b.ops(e)) / isa.SLOT_LIMITS[e] for e in ENGINES}
    top = max(need.values(), default=0)
    return [e for e in ENGINES if need[e] and need[e] >= within * top]


def compare_engines(a: Kernel, b: Kernel, *, names: tuple[str, str] = ("a", "b"),
                    window: int = 100) -> str:
    """The comparison as text: per window of `window` cycles, each busy
    engine's share of slots used in both schedules and the cycles of that
    engine's work the second loses there against the first (negative: it
    gains); then the same summed over the head, steady state and tail."""
    oa, ob = Occupancy.of(a), Occupancy.of(b)
    engines = busy_engines(oa, ob)
    same = all(oa.ops(e) == ob.ops(e) for e in ENGINES)
    lines = [f"A = {names[0]}: {oa.cycles} cycles; B = {names[1]}: {ob.cycles} cycles "
             f"({ob.cycles - oa.cycles:+d})"]
    if not same:
        lines.append("note: the two do not run the same ops on each engine (lane splitting? "
                     "another program?), so a window's shares compare unlike work")
    width = max(6, *(len(e) + 1 for e in engines))
    block = width * len(engines)
    titles = ["A: slots used", "B: slots used", "B loses (cycles)"]
    lines.append(f"{'':<13}" + " |".join(f"{t[:block]:>{block}}" for t in titles))
    head = "".join(f"{e:>{width}}" for e in engines)
    lines.append(f"{'cycles':<13}" + " |".join([head] * 3))
    span = max(oa.cycles, ob.cycles)
    for first in range(0, span, window):
        end = first + window
        cells_a = "".join(_pct(oa.share(e, first, end), width) for e in engines)
        cells_b = "".join(_pct(ob.share(e, first, end), width) for e in engines)
        lost = "".join(f"{_lost(oa, ob, e, first, end):>{width}.1f}" for e in engines)
        lines.append(f"{f'{first}..{end - 1}':<13}{cells_a} |{cells_b} |{lost}")
    lines.append("")
    lines.append(f"where B loses against A, in cycles of each engine's work (head and tail: "
                 f"the first and last {EDGE:.0%} of each schedule; negative: B gains):")
    lines.append(f"{'':<13}{head}")
    for part, (fa, ea), (fb, eb) in _parts(oa.cycles, ob.cycles):
        row = "".join(f"{ob.idle(e, fb, eb) - oa.idle(e, fa, ea):>{width}.1f}" for e in engines)
        lines.append(f"{part:<13}{row}")
    total = "".join(f"{ob.idle(e, 0, ob.cycles) - oa.idle(e, 0, oa.cycles):>{width}.1f}"
                    for e in engines)
    lines.append(f"{'in all':<13}{total}")
    return "\n".join(lines) + "\n"


def _pct(share: float | None, width: int) -> str:
    return f"{'-':>{width}}" if share is None else f"{share:>{width}.0%}"


def _lost(a: Occupancy, b: Occupancy, engine: str, first: int, end: int) -> float:
    # a window past one schedule's end: that schedule has no idle slots there
    return b.idle(engine, first, end) - a.idle(engine, first, end)


def _parts(na: int, nb: int) -> list[tuple[str, tuple[int, int], tuple[int, int]]]:
    """The head, steady state and tail of each schedule, as cycle ranges."""
    ha, hb = max(1, round(na * EDGE)), max(1, round(nb * EDGE))
    return [("head", (0, ha), (0, hb)), ("steady state", (ha, na - ha), (hb, nb - hb)),
            ("tail", (na - ha, na), (nb - hb, nb))]
