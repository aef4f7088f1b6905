"""`vemu stats`: where a kernel's slots go.

Per engine: ops, slots used over slots available, utilization, and its floor
(the cycles that engine alone needs); the program's bounds, as every view
names them (asm/sched/bounds.py: tight bound, resource floor, critical path);
idle runs (the longest stretch of cycles in which an engine does nothing);
the same per source region (the code between labels). Static by default
(every bundle once, as written); with an image, over the bundles a run
executes (each block's bounds counted as often as it runs).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from asm import isa
from asm.cfg import ControlFlow
from asm.kernel import Kernel, bundle_cost
from asm.sched.bounds import ProgramBounds, program_bounds

from .reference import ReferenceEngine
from .state import State, Status

ENGINES = tuple(e for e in isa.ENGINES if e not in isa.FREE_ENGINES)


@dataclass
class EngineStats:
    ops: int = 0
    slots: int = 0  # available: limit x cycles
    utilization: float = 0.0
    floor: int = 0  # ceil(ops / limit): cycles this engine alone needs
    idle_cycles: int = 0
    longest_idle: int = 0  # cycles
    longest_idle_at: int | None = None  # pc where that run starts


@dataclass
class Region:
    name: str
    start: int  # first pc
    end: int  # pc after the last
    cycles: int = 0
    ops: dict[str, int] = field(default_factory=dict)

    def utilization(self, engine: str) -> float:
        if not self.cycles:
            return 0.0
        return self.ops.get(engine, 0) / (isa.SLOT_LIMITS[engine] * self.cycles)


@dataclass
class Stats:
    mode: str  # "static" or "run"
    bundles: int
    cycles: int
    engines: dict[str, EngineStats]
    bounds: ProgramBounds
    regions: list[Region]
    # cycle-by-engine occupancy, bucketed: (first cycle, cycles, {engine: slots used})
    timeline: list[tuple[int, int, dict[str, int]]]
    # ops per engine and op (machine name), most first: how the slots are spent
    kinds: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def busiest(self) -> str | None:
        """The engine with the most ops for its slots (it sets the resource floor)."""
        return self.bounds.resource_engine

    def to_json(self) -> dict:
        d = asdict(self)
        d["regions"] = [{**asdict(r), "utilization": {e: r.utilization(e) for e in ENGINES}}
                        for r in self.regions]
        d["timeline"] = [{"cycle": c, "cycles": n, "used": used} for c, n, used in self.timeline]
        return d


def executed_pcs(kernel: Kernel, mem: Sequence[int], *, max_cycles: int | None = None
                 ) -> list[int]:
    """The pcs a run executes, in order."""
    engine = ReferenceEngine(kernel, max_cycles=max_cycles)
    state = State.fresh(list(mem))
    pcs: list[int] = []
    program = kernel.program
    while state.pc < len(program) and state.status is Status.READY:
        pcs.append(state.pc)
        engine.step(state)
    return pcs


def _block_runs(program: list[dict], pcs: Iterable[int]) -> dict[int, int]:
    """How often each block (by its first pc) runs, from the pcs executed."""
    starts = {b.start for b in ControlFlow(program).blocks()}
    runs: dict[int, int] = {}
    for pc in pcs:
        if pc in starts:
            runs[pc] = runs.get(pc, 0) + 1
    return runs


def _regions(kernel: Kernel) -> list[tuple[str, int, int]]:
    starts = sorted({(pc, name) for name, pc in kernel.labels.items()
                     if 0 <= pc < len(kernel.program)})
    bounds: list[tuple[str, int]] = []
    for pc, name in starts:
        if bounds and bounds[-1][1] == pc:
            continue  # two labels on one bundle: the first name
        bounds.append((name, pc))
    if not bounds or bounds[0][1] != 0:
        bounds.insert(0, ("(start)", 0))
    out = []
    for i, (name, pc) in enumerate(bounds):
        end = bounds[i + 1][1] if i + 1 < len(bounds) else len(kernel.program)
        out.append((name, pc, end))
    return out


def compute(kernel: Kernel, mem: Sequence[int] | None = None, *,
            max_cycles: int | None = None, columns: int = 600) -> Stats:
    """Static statistics (mem None), or those of a run on `mem`."""
    program = kernel.program
    pcs: Sequence[int] = (range(len(program)) if mem is None
                          else executed_pcs(kernel, mem, max_cycles=max_cycles))
    regions = [Region(name, a, b) for name, a, b in _regions(kernel)]
    region_of = [0] * len(program)
    for i, r in enumerate(regions):
        for pc in range(r.start, r.end):
            region_of[pc] = i
    per_cycle: list[dict[str, int]] = []  # slots used, per cycle, engines that cost
    first_pc: list[int] = []
    engines = {e: EngineStats() for e in ENGINES}
    kinds: dict[str, dict[str, int]] = {}
    for pc in pcs:
        bundle = program[pc]
        cost = bundle_cost(bundle)
        if not cost:
            continue
        used = {e: len(bundle.get(e, ())) for e in ENGINES}
        for e in ENGINES:
            for slot in bundle.get(e, ()):
                per_kind = kinds.setdefault(e, {})
                per_kind[slot[0]] = per_kind.get(slot[0], 0) + 1
        per_cycle.append(used)
        first_pc.append(pc)
        r = regions[region_of[pc]]
        r.cycles += cost
        for e, n in used.items():
            engines[e].ops += n
            if n:
                r.ops[e] = r.ops.get(e, 0) + n
    cycles = len(per_cycle)
    for e, s in engines.items():
        limit = isa.SLOT_LIMITS[e]
        s.slots = limit * cycles
        s.utilization = s.ops / s.slots if s.slots else 0.0
        s.floor = math.ceil(s.ops / limit)
        run = 0
        for i, used in enumerate(per_cycle):
            if used[e]:
                run = 0
                continue
            s.idle_cycles += 1
            run += 1
            if run > s.longest_idle:
                s.longest_idle, s.longest_idle_at = run, first_pc[i - run + 1]
    bounds = program_bounds(kernel, None if mem is None else _block_runs(program, pcs))
    width = max(1, math.ceil(cycles / columns)) if cycles else 1
    timeline = []
    for c in range(0, cycles, width):
        chunk = per_cycle[c:c + width]
        timeline.append((c, len(chunk), {e: sum(u[e] for u in chunk) for e in ENGINES}))
    kinds = {e: dict(sorted(k.items(), key=lambda kv: -kv[1])) for e, k in kinds.items()}
    return Stats("static" if mem is None else "run", len(program), cycles, engines, bounds,
                 [r for r in regions if r.cycles], timeline, kinds)


def _what(s: Stats) -> str:
    return "as written, each bundle once" if s.mode == "static" else "over the run"


def report(s: Stats) -> str:
    lines = [f"{s.cycles} cycles ({_what(s)})",
             f"bounds ({_what(s)}): {s.bounds.describe()}",
             f"{'engine':<8}{'ops':>9}{'slots':>11}{'used':>8}{'floor':>9}"
             f"{'idle':>9}  longest idle run"]
    for e, x in s.engines.items():
        where = f"{x.longest_idle} cycles from pc {x.longest_idle_at}" if x.longest_idle else "-"
        mark = "  (busiest)" if e == s.busiest else ""
        lines.append(f"{e:<8}{x.ops:>9}{x.slots:>11}{x.utilization:>8.1%}{x.floor:>9}"
                     f"{x.idle_cycles:>9}  {where}{mark}")
    lines.append("(floor: the cycles an engine's ops need at its slots a cycle)")
    if s.kinds:
        lines.append("ops by kind:")
        for e, per in s.kinds.items():
            lines.append(f"  {e:<6} " + ", ".join(f"{name} {n}" for name, n in per.items()))
    if len(s.regions) > 1:
        lines.append("regions (from each label):")
        for r in sorted(s.regions, key=lambda r: -r.cycles)[:12]:
            use = "  ".join(f"{e} {r.utilization(e):5.1%}" for e in ENGINES if r.ops.get(e))
            lines.append(f"  {r.name:<20} pc {r.start:>6}..{r.end - 1:<6} {r.cycles:>8} cycles"
                         f"  {use}")
    return "\n".join(lines)


_COLORS = {"alu": "#4e79a7", "valu": "#f28e2b", "load": "#59a14f", "store": "#e15759",
           "flow": "#b07aa1"}
PLOT_WIDTH = 1000  # SVG units across the cycles; the picture scales to the page


def _ticks(cycles: int) -> list[int]:
    """Round cycle numbers for the axis, about eight of them."""
    if cycles <= 0:
        return [0]
    raw = cycles / 8
    step = 1
    for mult in (1, 2, 5) * 12:
        if step * mult >= raw:
            step *= mult
            break
        if mult == 5:
            step *= 10
    while step * 8 < cycles:
        step *= 2
    return list(range(0, cycles + 1, step))


def html_page(s: Stats, title: str) -> str:
    """A self-contained page (no scripts, no external assets): the summary,
    with the busiest engine marked; ops by kind; and a cycle-by-engine
    picture in SVG (occupancy_svg)."""
    busiest = s.busiest
    svg = occupancy_svg(s)
    rows = "".join(
        f'<tr{" class=busiest" if e == busiest else ""}><td>{e}'
        f'{" (busiest)" if e == busiest else ""}</td><td>{x.ops}</td><td>{x.slots}</td>'
        f"<td>{x.utilization:.1%}</td><td>{x.floor}</td><td>{x.idle_cycles}</td>"
        f"<td>{x.longest_idle}</td></tr>"
        for e, x in s.engines.items())
    kinds = "".join(
        f"<tr><td>{e}</td><td>{x.ops}</td><td class=kinds>"
        + ", ".join(f"{html.escape(name)} {n} ({n / x.ops:.0%})"
                    for name, n in s.kinds.get(e, {}).items()) + "</td></tr>"
        for e, x in s.engines.items() if x.ops)
    regions = "".join(
        f"<tr><td>{html.escape(r.name)}</td><td>{r.start}..{r.end - 1}</td><td>{r.cycles}</td>"
        + "".join(f"<td>{r.utilization(e):.1%}</td>" for e in ENGINES) + "</tr>"
        for r in s.regions)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font:14px sans-serif;margin:20px}}table{{border-collapse:collapse;margin:10px 0}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}td:first-child{{text-align:left}}
td.kinds,th.kinds{{text-align:left}}tr.busiest td{{font-weight:bold;background:#fff3cd}}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{s.cycles} cycles ({_what(s)}).</p>
<p>Bounds ({_what(s)}): {html.escape(s.bounds.describe())}.</p>
<table><tr><th>engine</th><th>ops</th><th>slots</th><th>used</th>
<th>floor (cycles its ops need)</th>
<th>idle cycles</th><th>longest idle run</th></tr>{rows}</table>
<h2>Slots used, cycle by cycle</h2>
<p>Each band is an engine, as tall as its slots; the coloured part of a column is the
share of that engine's slots used in those cycles (hover for numbers). The busiest
engine is marked *. The boxes under the cycle axis are the source regions (code
between labels).</p>
{svg}
<h2>Ops by kind</h2>
<table><tr><th>engine</th><th>ops</th><th class=kinds>by op</th></tr>{kinds}</table>
<h2>Regions</h2>
<table><tr><th>region</th><th>pcs</th><th>cycles</th>{"".join(f"<th>{e}</th>" for e in ENGINES)}</tr>
{regions}</table>
</body></html>
"""




_LEFT, _RIGHT = 80, 16  # the SVG's margins: engine names, and air


def occupancy_svg(s: Stats) -> str:
    """The cycle-by-engine picture, spanning the page's width: each engine a
    band as tall as its slots, the filled part of each column the share of
    slots used; under it the cycle axis and the source regions."""
    parts: list[str] = []
    y = _engine_bands(s, parts, 10)
    y = _cycle_axis(s, parts, y)
    y = _region_boxes(s, parts, y)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 '
            f'{_LEFT + PLOT_WIDTH + _RIGHT} {y}" width="100%" role="img" '
            'aria-label="slot occupancy by cycle and engine">'
            '<style>.l{font:12px sans-serif}.b{font-weight:bold}'
            '.r{font:10px sans-serif;fill:#555}</style>' + "".join(parts) + "</svg>")


def _x_of(s: Stats, cycle: int) -> float:
    return _LEFT + PLOT_WIDTH * cycle / max(1, s.cycles)


def _engine_bands(s: Stats, parts: list[str], y: int) -> int:
    """Each engine's band from `y` down; where the next part starts."""
    col_w = PLOT_WIDTH / max(1, len(s.timeline))
    busiest = s.busiest
    for e in ENGINES:
        limit = isa.SLOT_LIMITS[e]
        h = 12 + 4 * limit
        cls = "l b" if e == busiest else "l"
        label = f"{e} *" if e == busiest else e
        parts.append(f'<text x="4" y="{y + h / 2 + 4:.0f}" class="{cls}">{label}'
                     f'<title>{e}: {s.engines[e].ops} ops, floor {s.engines[e].floor} cycles'
                     f'{" (busiest)" if e == busiest else ""}</title></text>')
        parts.append(f'<rect x="{_LEFT}" y="{y}" width="{PLOT_WIDTH}" height="{h}" '
                     f'fill="#eee" class="band" data-engine="{e}"/>')
        for i, (c, span, used) in enumerate(s.timeline):
            share = used[e] / (limit * span) if span else 0.0
            if share:
                bar = h * share
                parts.append(f'<rect x="{_LEFT + i * col_w:.2f}" y="{y + h - bar:.1f}" '
                             f'width="{col_w:.2f}" height="{bar:.1f}" fill="{_COLORS[e]}">'
                             f'<title>cycles {c}..{c + span - 1}: {e} {share:.0%} used'
                             f'</title></rect>')
        y += h + 8
    return y


def _cycle_axis(s: Stats, parts: list[str], y: int) -> int:
    parts.append(f'<line x1="{_LEFT}" y1="{y}" x2="{_LEFT + PLOT_WIDTH}" y2="{y}" '
                 f'stroke="#333" class="axis"/>')
    for t in _ticks(s.cycles):
        x = _x_of(s, t)
        parts.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 5}" stroke="#333"/>')
        anchor = "end" if t == s.cycles and t else "middle" if t else "start"
        parts.append(f'<text x="{x:.1f}" y="{y + 17}" class="r" text-anchor="{anchor}">'
                     f'{t}</text>')
    parts.append(f'<text x="4" y="{y + 17}" class="r">cycle</text>')
    return y + 26


def _region_boxes(s: Stats, parts: list[str], y: int) -> int:
    """Source regions along the bottom, by the cycle where each starts."""
    for name, c0, c1 in _region_cycles(s):
        x0, x1 = _x_of(s, c0), _x_of(s, c1)
        parts.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(1.0, x1 - x0):.1f}" height="14" '
                     f'fill="none" stroke="#999"><title>{html.escape(name)}</title></rect>')
        if x1 - x0 > 40:
            parts.append(f'<text x="{x0 + 3:.1f}" y="{y + 11}" class="r">'
                         f'{html.escape(name[:max(1, int((x1 - x0) / 7))])}</text>')
    return y + 24


def _region_cycles(s: Stats) -> list[tuple[str, int, int]]:
    """Regions laid along the cycle axis in order of their first cycles (for
    a run with loops, each region's cycles are summed into one box)."""
    out = []
    c = 0
    for r in sorted(s.regions, key=lambda r: r.start):
        out.append((r.name, c, c + r.cycles))
        c += r.cycles
    return out
