"""What a tuning found: the progress line, the table of the best trials, the
command that rebuilds the best kernel, and an HTML page (the history of the
search, and each parameter's effect), self-contained like `vemu stats`'s.
"""

from __future__ import annotations

import html
import shlex
from collections.abc import Sequence
from typing import Any

from .search import SEED_PARAM, Progress, Settings

SHOWN = 10  # rows of the table of best trials


def progress_text(p: Progress, seconds: float, target: int) -> str:
    best = (f"best {int(p.best.value)} cycles (trial {p.best.number})" if p.best is not None
            else "no result yet")
    failed = f" ({p.failed} failed)" if p.failed else ""
    rate = p.finished / seconds if seconds > 0 else 0.0
    return (f"{p.finished}/{target} trials{failed}, {p.running} running; {best}; "
            f"{rate:.2f} trials/s")


def completed(p: Progress) -> list:
    """Finished trials with a result, best first (then the earliest)."""
    from optuna.trial import TrialState
    done = [t for t in p.trials if t.state == TrialState.COMPLETE]
    return sorted(done, key=lambda t: (t.value, t.number))


def failures(p: Progress) -> list:
    from optuna.trial import TrialState
    return [t for t in p.trials if t.state == TrialState.FAIL and t.user_attrs.get("failure")]


def table(settings: Settings, p: Progress) -> str:
    names = [x.name for x in settings.searched.params]
    rows = completed(p)[:SHOWN]
    widths = [max([len(n), *(len(str(t.params.get(n, ""))) for t in rows)]) for n in names]
    head = ("trial  " + "  ".join(f"{n:>{w}}" for n, w in zip(names, widths, strict=True))
            + "  cycles  bound  seconds")
    out = [head]
    for t in rows:
        cells = "  ".join(f"{t.params.get(n, ''):>{w}}" for n, w in zip(names, widths, strict=True))
        bound = t.user_attrs.get("bound")
        out.append(f"{t.number:>5}  {cells}  {int(t.value):>6}  {bound if bound is not None else '':>5}"
                   f"  {t.user_attrs.get('seconds', 0):>7.1f}")
    return "\n".join(out)


def failure_lines(p: Progress, shown: int = 5) -> list[str]:
    out = []
    for t in failures(p)[:shown]:
        params = ", ".join(f"{k}={v}" for k, v in t.params.items())
        out.append(f"trial {t.number} ({params}) {t.user_attrs['failure']}: "
                   f"{t.user_attrs.get('message', '')}")
    more = len(failures(p)) - shown
    if more > 0:
        out.append(f"... and {more} more failed trials")
    return out


def rebuild_command(settings: Settings, params: dict, output: str = "best.vk.json") -> str:
    """The `vasm assemble` line that builds the kernel of `params` again."""
    b = settings.build
    words = ["vasm", "assemble", str(b.source)]
    for name, value in {**b.defines, **settings.defines(params)}.items():
        words += ["-D", f"{name}={value}"]
    for folder in b.include_paths:
        words += ["-I", folder]
    words.append(f"-O{b.level}")
    if b.budget is not None:
        words += ["--budget", f"{b.budget:g}"]
    if not b.split:
        words.append("--no-split")
    if b.rename:
        words.append("--rename")
    seed = int(params.get(SEED_PARAM, 0))
    if seed and b.level > 1:
        words += ["--seed", str(seed)]
    words += ["-o", output]
    return shlex.join(words)


# ------------------------------------------------------------------ the page

_W, _H, _LEFT, _BOTTOM = 900, 260, 60, 30


def html_page(settings: Settings, p: Progress, title: str) -> str:
    """The page: the best trials, the history (each trial's cycles and the
    best so far), and for each parameter its values against the cycles."""
    done = sorted(completed(p), key=lambda t: t.number)
    history = _history(done) if done else "<p>No trial has finished with a result.</p>"
    effects = "".join(_effect(settings, x.name, done) for x in settings.searched.params) \
        if done else ""
    best = completed(p)[:1]
    summary = (f"best {int(best[0].value)} cycles (trial {best[0].number}); rebuild it with "
               f"<code>{html.escape(rebuild_command(settings, best[0].params))}</code>"
               if best else "no result")
    rows = html.escape(table(settings, p))
    failed = "".join(f"<li>{html.escape(line)}</li>" for line in failure_lines(p, 20))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font:14px sans-serif;margin:20px}}pre{{background:#f6f6f6;padding:8px}}
svg text{{font:11px sans-serif;fill:#333}}.axis{{stroke:#333}}.grid{{stroke:#ddd}}
.trial{{fill:#4e79a7}}.failed{{fill:#e15759}}.best{{stroke:#f28e2b;stroke-width:2;fill:none}}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{p.finished} trials finished ({p.failed} failed). {summary}.</p>
<h2>Best trials</h2>
<pre>{rows}</pre>
<h2>History</h2>
<p>Each dot a trial's cycles, in the order the trials ran; the line the best so far.</p>
{history}
<h2>Each parameter's effect</h2>
<p>For each parameter, its values along the bottom and the cycles of every trial
that took each; the orange mark is the best of them.</p>
{effects}
{f"<h2>Failed trials</h2><ul>{failed}</ul>" if failed else ""}
</body></html>
"""


def _scale(values: Sequence[float], lo_px: float, hi_px: float, pad: float = 0.0):
    """A linear map of `values`' span onto lo_px..hi_px (`pad`: a share of the
    span left free at each end), and the span."""
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    margin = (hi - lo) * pad
    a, b = lo - margin, hi + margin
    return lambda v: lo_px + (v - a) * (hi_px - lo_px) / (b - a), lo, hi


def _frame(parts: list[str], y_of, lo: float, hi: float) -> None:
    parts.append(f'<line class="axis" x1="{_LEFT}" y1="{_H - _BOTTOM}" x2="{_W}" '
                 f'y2="{_H - _BOTTOM}"/>')
    parts.append(f'<line class="axis" x1="{_LEFT}" y1="10" x2="{_LEFT}" y2="{_H - _BOTTOM}"/>')
    for v in (lo, (lo + hi) / 2, hi):
        y = y_of(v)
        parts.append(f'<line class="grid" x1="{_LEFT}" y1="{y:.1f}" x2="{_W}" y2="{y:.1f}"/>')
        parts.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{v:.0f}</text>')


def _history(done: list) -> str:
    values = [t.value for t in done]
    y_of, lo, hi = _scale(values, _H - _BOTTOM, 10, pad=0.05)
    x_of, first, last = _scale([t.number for t in done], _LEFT + 10, _W - 10)
    parts: list[str] = []
    _frame(parts, y_of, lo, hi)
    best, line = None, []
    for t in done:
        x, y = x_of(t.number), y_of(t.value)
        parts.append(f'<circle class="trial" cx="{x:.1f}" cy="{y:.1f}" r="3">'
                     f'<title>trial {t.number}: {int(t.value)} cycles</title></circle>')
        best = t.value if best is None else min(best, t.value)
        line.append(f"{x:.1f},{y_of(best):.1f}")
    parts.append(f'<polyline class="best" points="{" ".join(line)}"/>')
    for number in {int(first), int(last)}:
        parts.append(f'<text x="{x_of(number):.1f}" y="{_H - _BOTTOM + 14}" '
                     f'text-anchor="middle">{number}</text>')
    parts.append(f'<text x="{(_LEFT + _W) / 2:.0f}" y="{_H - 6}" text-anchor="middle">trial'
                 '</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="100%" '
            f'role="img" aria-label="cycles by trial" class="history">{"".join(parts)}</svg>')


def _effect(settings: Settings, name: str, done: list) -> str:
    taken = [t for t in done if name in t.params]
    values = sorted({t.params[name] for t in taken}, key=lambda v: (isinstance(v, str), v))
    if not values:
        return ""
    y_of, lo, hi = _scale([t.value for t in taken], _H - _BOTTOM, 10, pad=0.05)
    step = (_W - _LEFT - 20) / max(1, len(values))
    x_at = {v: _LEFT + 10 + step * (i + 0.5) for i, v in enumerate(values)}
    parts: list[str] = []
    _frame(parts, y_of, lo, hi)
    for v in values:
        cycles = [t.value for t in taken if t.params[name] == v]
        x = x_at[v]
        y = y_of(min(cycles))
        parts.append(f'<line class="best" x1="{x - step * 0.3:.1f}" y1="{y:.1f}" '
                     f'x2="{x + step * 0.3:.1f}" y2="{y:.1f}"><title>'
                     f'{html.escape(f"{name}={v}")}: best {int(min(cycles))} cycles of '
                     f'{len(cycles)} trials</title></line>')
        for c in cycles:
            parts.append(f'<circle class="trial" cx="{x:.1f}" cy="{y_of(c):.1f}" r="3"/>')
        parts.append(f'<text x="{x:.1f}" y="{_H - _BOTTOM + 14}" text-anchor="middle">'
                     f'{html.escape(str(v))}</text>')
    return (f"<h3>{html.escape(name)}</h3>"
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="100%" '
            f'role="img" aria-label="cycles by {html.escape(name)}" class="effect">'
            f'{"".join(parts)}</svg>')


def best_params(p: Progress) -> dict[str, Any] | None:
    done = completed(p)
    return dict(done[0].params) if done else None
