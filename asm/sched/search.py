"""The scheduler's search for a short schedule of one block, by level.

Every level starts from list schedules (asm/sched/listsched.py) under several
priorities, forward and backward, and improves them by justification:
a schedule is re-scheduled right-justified (backward) in the order of its own
cycles, then left-justified (forward) in the order of that, until a round
gains nothing (forward-backward improvement, as in project scheduling).
Which priority starts best differs from kernel to kernel: critical-path
height, "feed" priorities that keep a starving engine supplied when several
engines are near saturation, downstream work on the busy engines, or
program order. The "supply" starts are passes by downstream work that also
keep one busy engine supplied cycle by cycle (listsched.Supply): when its
ready ops run short, the other engines work towards it. Every level then
tries one pass that clears the bounds' windows of ops that could run before
them (`cleared`). `-O2` then spends a
fixed number of passes perturbing the best schedule's order and justifying
again (iterated local search, see `_perturb`); `-O3` does the same for a
wall-clock budget on every core.

Levels:
- `-O1`: the quick starts (height, feeding each busy engine, program order),
  forward and backward, and supplying each busy engine, forward; one
  justification round each.
- `-O2` (the default): every start; the three best after one round
  justified to convergence; then a fixed number of perturbation passes (per
  10,000 ops). Deterministic.
- `-O3`: `-O2`, then perturbation rounds on every core until the budget
  (seconds) runs out. The result depends on the machine's speed.

The search stops early when a schedule meets the block's lower bound.

Passes that do not depend on one another (the starts, a perturbation try
and the one ahead of it) run side by side on threads
(asm/sched/sidebyside.py), each recorded as a `_Trial` and committed in the
order one thread would have run them: the result is the same for any
number of threads.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import compiled
from .bounds import Window
from .graph import CAPS, CAPS_ARRAY, ENGINE_NAMES, Graph
from .listsched import backward_schedule, list_schedule
from .priorities import (
    bottlenecks,
    by_height,
    by_work,
    feeding,
    following,
    group_count,
    in_order,
    staggered,
    supplying,
)
from .sidebyside import Dropped, side_by_side
from .tuning import TUNING, Level

Progress = Callable[[str], None]


@dataclass
class Found:
    cycle_of: np.ndarray | None  # None: nothing beat the block as written
    cost: int
    how: str
    passes: int = 0  # list-scheduling passes spent


class _Trial:
    """One line of the search on its own (a start, a start's justification, a
    perturbation try): its passes and the schedules it offers, recorded, so
    that independent lines can run side by side (asm/sched/sidebyside.py) and
    be committed to the search in the order a single line would have run them."""

    def __init__(self, g: Graph, bound: int, dropped: threading.Event | None = None) -> None:
        self.g = g
        self.bound = bound
        self.dropped = dropped  # set when the trial's result is no longer wanted
        self.passes = 0
        self.offers: list[tuple[np.ndarray, int, str]] = []
        self.reached = False  # an offer met the bound: the search ends with it

    def forward(self, priority: Sequence | np.ndarray) -> np.ndarray:
        self._go_on()
        return list_schedule(self.g, priority)

    def backward(self, priority: Sequence | np.ndarray) -> np.ndarray:
        self._go_on()
        return backward_schedule(self.g, priority)

    def _go_on(self) -> None:
        if self.dropped is not None and self.dropped.is_set():
            raise Dropped
        self.passes += 1

    def offer(self, cycle_of: np.ndarray, how: str) -> int:
        cost = self.g.cost(cycle_of)
        self.offers.append((cycle_of, cost, how))
        self.reached = self.reached or cost <= self.bound
        return cost

    def justify(self, cycle_of: np.ndarray, cost: int, how: str, rounds: int
                ) -> tuple[np.ndarray, int]:
        """Right-justify, then left-justify, until a round gains nothing."""
        g = self.g
        for _ in range(rounds):
            if self.reached:
                break
            right = self.backward(following(g, cycle_of, backward=True))
            left = self.forward(following(g, right, backward=False))
            new = self.offer(left, f"{how} + justified")
            if new >= cost:
                break
            cycle_of, cost = left, new
        return cycle_of, cost


class _Search:
    def __init__(self, g: Graph, bound: int, before: int, progress: Progress | None,
                 threads: int = 1) -> None:
        self.g = g
        self.bound = bound
        self.best = Found(None, before, "as written")
        self.passes = 0
        self.progress = progress
        self.threads = threads

    @property
    def done(self) -> bool:
        return self.best.cost <= self.bound

    def commit(self, trial: _Trial) -> None:
        """A trial's passes and offers, as if it had run here."""
        self.passes += trial.passes
        for cycle_of, cost, how in trial.offers:
            if cost < self.best.cost or (self.best.cycle_of is None and cost == self.best.cost):
                self.best = Found(cycle_of, cost, how)
                if self.progress:
                    self.progress(f"{cost} cycles ({how})")


@dataclass(frozen=True)
class Start:
    name: str
    priority: Callable[[Graph], Sequence]  # of the graph it schedules
    backward: bool = True  # also a backward pass (on the reversed graph)
    # Whether the start is tried at all, asked of the (forward) graph by the
    # start's own line, so that what decides it is made beside the first
    # lines, not before them (None: always).
    wanted: Callable[[Graph], bool] | None = None


def _starts(g: Graph, which: str, bound: int) -> list[Start]:
    """Start priorities, as functions of the graph they schedule (a backward
    pass schedules the reversed graph, where heights are depths). "quick"
    leaves out what costs more than a pass (downstream work), but for the
    supply starts forward, which gain most where engines hand work over."""
    out = [Start("height", by_height)]
    # Feeding an engine that is busy only in some phases (the flow engine's
    # vselects in a kernel's first rounds, say) can matter as much as feeding
    # the busiest one, so every engine with half the busiest one's load gets
    # a start of its own.
    busy = bottlenecks(g, within=TUNING.feed_within)
    if len(busy) > 1:
        out += [Start(f"feed {e}", functools.partial(feeding, engine=e)) for e in busy]
        out += [Start(f"supply {e}", functools.partial(supplying, engine=e),
                      backward=which == "all") for e in busy]
    if which == "all":
        out.append(Start("work", by_work))
        out += [Start(f"stagger {f:.2f}", functools.partial(staggered, fraction=f, bound=bound),
                      wanted=_grouped) for f in TUNING.stagger]
    out.append(Start("order", in_order))
    return out


def _grouped(g: Graph) -> bool:
    """Whether the staggered starts are tried: a block of enough output groups."""
    return group_count(g) >= TUNING.stagger_groups


# Blocks smaller than this run their independent passes one after another: a
# thread costs more than a pass on them.
THREADED_OPS = 2_000


def search(g: Graph, bound: int, before: int, level: Level, *, seed: int = 0,
           progress: Progress | None = None, deadline: float | None = None,
           jobs: int = 1, windows: Sequence[Window] = ()) -> Found:
    """The shortest schedule of a block found at `level` (`before`: its cycles
    as written, which a schedule must beat to be used). `jobs`: how many
    passes may run side by side, on threads (independent starts, and two
    perturbation tries, see `_perturb`; the result is the same for any
    number), and at -O3 on how many processes its open-ended search runs
    until `deadline` (a `time.monotonic()` value). `windows`: where the ops
    that set the busy engines' bounds must run (bounds.Window), for the
    clearing move (see `cleared`)."""
    # (the Python pass holds the interpreter's lock: threads would only wait)
    threaded = g.n >= THREADED_OPS and compiled.core is not None
    s = _Search(g, bound, before, progress, threads=jobs if threaded else 1)
    if s.done:  # (as written, the block meets its bound)
        return s.best
    starts = _starts(g, level.starts, bound)
    work_made, background = _prepare(g, starts, s.threads)
    lines = [(start, direction) for start in starts
             for direction in (("forward", "backward") if start.backward else ("forward",))]
    # (cost after one justification round, label, cycles) of every start
    tried: list[tuple[int, str, np.ndarray]] = []
    forward: dict[str, np.ndarray] = {}  # each start's priority on g, kept for plans_of
    tasks = [functools.partial(_start_line, g, bound, start, direction, work_made)
             for start, direction in lines]
    with contextlib.closing(side_by_side(tasks, s.threads)) as results:
        for start, direction in lines:
            if s.done:
                break
            line = next(results)
            if line is None:  # (not wanted)
                continue
            trial, priority, cycle_of, cost = line
            s.commit(trial)
            if priority is not None:
                forward[start.name] = priority
            tried.append((cost, f"{direction}, {start.name}", cycle_of))
    for thread in background:
        thread.join()  # (no thread outlives the search)
    tried.sort(key=lambda t: t[0])
    best = tried[:level.justify_best]
    converged = []
    tasks = [functools.partial(_justify_line, g, bound, cycle_of, cost, label,
                               level.justify_rounds) for cost, label, cycle_of in best]
    with contextlib.closing(side_by_side(tasks, s.threads)) as results:
        for cost, _, cycle_of in best:
            if s.done:  # (a line that starts done gains nothing)
                converged.append((cycle_of, cost))
                continue
            trial, justified = next(results)
            s.commit(trial)
            converged.append(justified)
    if windows and s.best.cycle_of is not None and not s.done:
        key = cleared(g, s.best.cycle_of, windows)
        if key is not None:
            trial = _Trial(g, bound)
            cycle_of = trial.forward(key - g.height_tie)
            trial.justify(cycle_of, trial.offer(cycle_of, "cleared"), "cleared",
                          level.justify_rounds)
            s.commit(trial)
    if s.best.cycle_of is not None and not s.done and (level.perturb_passes
                                                        or level.open_ended):
        passes = level.perturb_passes * max(1, len(g.costly) // 10_000)
        plans = plans_of(g, forward)
        plans += [c.astype(np.float64) for c, _ in converged if c is not s.best.cycle_of]
        _perturb(s, np.random.default_rng(seed), passes=passes, rounds=level.justify_rounds,
                 plans=plans, windows=windows)
        if level.open_ended and deadline is not None:
            _islands(s, seed, level.justify_rounds, plans, deadline, jobs, windows)
    s.best.passes = s.passes
    return s.best


def _prepare(g: Graph, starts: list[Start], threads: int
             ) -> tuple[threading.Thread | None, list[threading.Thread]]:
    """With threads: what the starts' threads would each make on first use,
    made once here; the downstream work that some starts build on made on a
    thread of its own while the first starts run, and the output groups that
    decide whether the staggered starts are tried on another. (The thread
    making downstream work, to wait for; every thread started, to join.)
    One thread makes each when first used, which may be never (a start that
    meets the bound ends the search)."""
    if threads <= 1:
        return None, []
    for graph in (g, g.reverse):  # (threads run only on the compiled pass's arrays)
        _ = graph.height_array, graph.order_array, graph.costly_array, graph.pass_arrays
    wanted = []  # the graphs whose downstream work a start builds on
    for start in starts:
        if _needs_work(start):
            wanted += [g, g.reverse] if start.backward else [g]
    wanted = list({id(x): x for x in wanted}.values())
    work = threading.Thread(target=lambda: [by_work(graph) for graph in wanted], daemon=True)
    background = [work] if wanted else []
    if any(start.wanted is not None for start in starts):
        background.append(threading.Thread(target=lambda: g.groups, daemon=True))
    for thread in background:
        thread.start()
    return (work if wanted else None), background


def _needs_work(start: Start) -> bool:
    return start.name.startswith(("supply", "work"))  # (both start from downstream work)


def _start_line(g: Graph, bound: int, start: Start, direction: str,
                work_made: threading.Thread | None, dropped: threading.Event | None
                ) -> tuple[_Trial, np.ndarray | None, np.ndarray, int] | None:
    """A start's pass, justified one round: (the trial, its priority when
    forward, its cycles, their cost), or None when the start is not wanted
    on this graph. `work_made`: the thread making the downstream work some
    starts need, if one does."""
    if start.wanted is not None and not start.wanted(g):
        return None
    if work_made is not None and _needs_work(start):
        work_made.join()
    trial = _Trial(g, bound, dropped)
    label = f"{direction}, {start.name}"
    priority = None
    if direction == "forward":
        priority = start.priority(g)
        cycle_of = trial.forward(priority)
    else:
        cycle_of = trial.backward(start.priority(g.reverse))
    cost = trial.offer(cycle_of, label)
    # Where a start leads after one round matters more than its own length
    # (on prateek's kernel the longest start leads to the shortest schedule).
    cycle_of, cost = trial.justify(cycle_of, cost, label, 1)
    return trial, priority, cycle_of, cost


def _justify_line(g: Graph, bound: int, cycle_of: np.ndarray, cost: int, how: str,
                  rounds: int, dropped: threading.Event | None
                  ) -> tuple[_Trial, tuple[np.ndarray, int]]:
    trial = _Trial(g, bound, dropped)
    return trial, trial.justify(cycle_of, cost, how, rounds)


def _islands(s: _Search, seed: int, rounds: int, plans: list[np.ndarray], deadline: float,
             jobs: int, windows: Sequence[Window]) -> None:
    """Perturbation search on `jobs` processes until `deadline`, in legs: each
    leg every process starts from the best schedule so far, with a seed of
    its own."""
    import multiprocessing  # (here: -O3 alone needs it, and it costs 10 ms to import)

    leg = max(TUNING.leg_seconds, (deadline - time.monotonic()) / 8)
    if multiprocessing.current_process().daemon:
        jobs = 1  # a pool's own worker cannot start processes
    pool = multiprocessing.get_context("fork").Pool(jobs) if jobs > 1 else None
    try:
        number = 0
        while not s.done and time.monotonic() < deadline - 0.05:
            until = min(deadline, time.monotonic() + leg)
            tasks = [(s.g, s.bound, s.best, seed + TUNING.island_seed_stride * (number * jobs + k),
                      rounds, plans, windows, until) for k in range(jobs)]
            number += 1
            results = pool.map(_island, tasks) if pool else [_island(tasks[0])]
            for found in results:
                s.passes += found.passes
                if found.cost < s.best.cost:
                    s.best = Found(found.cycle_of, found.cost, "blamed (-O3)")
                    if s.progress:
                        s.progress(f"{found.cost} cycles ({s.best.how})")
    finally:
        if pool is not None:
            pool.terminate()


def _island(task: tuple) -> Found:
    """One process's leg of the -O3 search (a top-level function, so that a
    worker process can run it)."""
    g, bound, best, seed, rounds, plans, windows, until = task
    s = _Search(g, bound, best.cost + 1, None)
    s.best = best
    _perturb(s, np.random.default_rng(seed), passes=None, rounds=rounds, plans=plans,
             windows=windows, deadline=until)
    return Found(s.best.cycle_of, s.best.cost, s.best.how, s.passes)


def _perturb(s: _Search, rng: np.random.Generator, *, passes: int | None, rounds: int,
             plans: Sequence[np.ndarray], windows: Sequence[Window] = (),
             deadline: float | None = None) -> None:
    """Iterated local search from the best schedule, by three kinds of move,
    each scheduled and justified, and kept when no worse (so that plateaus
    are crossed):
    - blame: the ops blamed for the schedule's idle slots (see `blame`) move
      earlier;
    - re-plan: the ops of a window of the schedule (a random stretch of its
      cycles) take the order of one of `plans`, the others keeping theirs.
      When several engines are near saturation, list scheduling decides
      greedily, cycle by cycle, which engine's work runs now and which waits;
      a window re-planned under another priority (feeding another engine,
      say) decides differently for a stretch, which blame, moving single
      chains, does not reach. `plans` holds start priorities and the cycles
      of other good schedules, so that a stretch of one can enter another;
    - blame and clear: the blamed priority, with the ops `cleared` moves out
      of the bounds' windows (and those leading to them) at their releases.

    Tries form one line with one try in flight ahead: try j starts from the
    schedule kept once every try before j - 1 is done, so that tries j - 1
    and j can run at once (on two threads; one after the other on one, with
    the same draws and the same result). A try kept does not stop the one
    already running from the schedule before it, which is kept too when no
    worse. (A line that waits for each try before drawing the next throws
    the try run ahead away whenever one is kept: a third of fast.vasm's
    tries, on plateaus.)"""
    g = s.g
    busy = bottlenecks(g)
    start = s.passes
    # Tries since the best improved, but for the one already running then
    # (it started from the schedule before the gain).
    stale = 0
    gained = -1  # the last try that improved the best
    # kept[c]: the schedule kept once c tries are committed (with its blamed
    # priority, made once); try j starts from kept[j - 1], try 0 from kept[0].
    # (the last two are all a try still to draw can need)
    kept = {0: _Blamed(g, s.best.cycle_of, busy, windows)}

    def stopping() -> bool:
        if s.done:
            return True
        if passes is not None and (s.passes - start >= passes or stale >= TUNING.stale):
            return True
        return deadline is not None and time.monotonic() >= deadline

    def tries():
        for j in itertools.count():
            base = kept[max(0, j - 1)]  # (there when try j - 2 is committed)
            yield functools.partial(_try, g, s.bound, base,
                                    _draw(rng, base.cycle_of, plans, g.n, bool(windows)),
                                    rounds)

    if stopping():
        return
    with contextlib.closing(side_by_side(tries(), min(s.threads, 2))) as results:
        for j, (trial, cycle_of, cost) in enumerate(results):
            before = s.best.cost
            s.commit(trial)
            if s.best.cost < before:
                stale, gained = 0, j
            elif j > gained + 1:  # (try gained + 1 started before the gain)
                stale += 1
            kept[j + 1] = _Blamed(g, cycle_of, busy, windows) if cost <= s.best.cost else kept[j]
            kept.pop(j - 1, None)
            if stopping():
                break


class _Blamed:
    """A schedule's blamed priority (its cycles less `blame`), and that cleared
    (`cleared`), each made by the first try from it that needs it, once, for
    all of them."""

    def __init__(self, g: Graph, cycle_of: np.ndarray, busy: Sequence[str],
                 windows: Sequence[Window] = ()) -> None:
        self.g, self.cycle_of, self.busy, self.windows = g, cycle_of, busy, windows
        self.lock = threading.Lock()
        self.key: np.ndarray | None = None
        self.cleared_key: np.ndarray | None | bool = False  # (False: not made yet)

    def get(self) -> np.ndarray:
        with self.lock:
            if self.key is None:
                self.key = self.cycle_of - blame(self.g, self.cycle_of, self.busy)
            return self.key

    def cleared(self) -> np.ndarray | None:
        """The blamed priority, cleared (`cleared`), or None when nothing is
        in the bounds' windows."""
        blamed = self.get()
        with self.lock:
            if self.cleared_key is False:
                self.cleared_key = cleared(self.g, self.cycle_of, self.windows, blamed)
            return self.cleared_key


Move = tuple  # (kind, plan or None, window (first, width) or None, noise)


def _draw(rng: np.random.Generator, current: np.ndarray, plans: Sequence[np.ndarray],
          n: int, clearing: bool = False) -> Move:
    """A try's random choices: re-plan a window by one of `plans`, blame and
    clear the bounds' windows (when `clearing`), or blame; and the noise that
    breaks ties."""
    draw = rng.random()
    if plans and draw < TUNING.replan:
        plan = plans[rng.integers(len(plans))]
        window = _window(int(current.max()) + 1, rng)
        return "re-planned", plan, window, rng.random(n)
    if clearing and draw < TUNING.replan + TUNING.clear:
        return "cleared", None, None, rng.random(n)
    return "blamed", None, None, rng.random(n)


def _try(g: Graph, bound: int, base: _Blamed, move: Move, rounds: int,
         dropped: threading.Event | None) -> tuple[_Trial, np.ndarray, int]:
    how, plan, window, noise = move
    key = None
    if how == "re-planned":
        key = _replanned(base.cycle_of, plan, *window)
    elif how == "cleared":
        key = base.cleared()
    if key is None:
        key, how = base.get(), "blamed"
    trial = _Trial(g, bound, dropped)
    cycle_of = trial.forward(key + TUNING.noise * noise - g.height_tie)
    cost = trial.offer(cycle_of, how)
    cycle_of, cost = trial.justify(cycle_of, cost, how, rounds)
    return trial, cycle_of, cost


def _replanned(cycle_of: np.ndarray, plan: np.ndarray, first: int, width: int) -> np.ndarray:
    """A priority: the order of `cycle_of`, except in the window of cycles
    first..first+width-1, whose ops are spread over the window in the order
    of `plan`."""
    inside = np.flatnonzero((cycle_of >= first) & (cycle_of < first + width))
    key = cycle_of.astype(np.float64)
    ranked = inside[np.argsort(plan[inside], kind="stable")]
    key[ranked] = first + np.arange(len(ranked)) * (width / max(1, len(ranked)))
    return key


def _window(span: int, rng: np.random.Generator) -> tuple[int, int]:
    """A random window of a schedule of `span` cycles: (first cycle, length)."""
    width = max(1, int(span * rng.uniform(*TUNING.window)))
    return int(rng.integers(0, max(1, span - width))), width


def plans_of(g: Graph, made: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The priorities windows are re-planned by: height, downstream work,
    feeding each engine near saturation, and the staggered starts' (those the
    starts made already, in `made` by start name, are not made again).

    A staggered window sets some groups ahead of others for a stretch: where
    a kernel turns from one busy engine to another (lianghongkey's vector ALU
    early, its loads late), the groups that lead can then feed the second
    engine while the others still need the first."""
    wanted = [("height", by_height), ("work", by_work)] + [
        (f"feed {e}", functools.partial(feeding, engine=e)) for e in bottlenecks(g)]
    plans = [made[name] if name in made else priority(g) for name, priority in wanted]
    return plans + [priority for name, priority in made.items() if name.startswith("stagger")]


def cleared(g: Graph, cycle_of: np.ndarray, windows: Sequence[Window],
            key: np.ndarray | None = None) -> np.ndarray | None:
    """A priority that clears the bounds' windows (bounds.Window) of a
    schedule's ops that could run before them, or None when none is there.

    The ops that set an engine's bound need every slot of it from cycle
    `release` to `tail` cycles before the end; another op of the engine
    placed in that stretch takes a slot from them, and one whose release is
    earlier could have run before it. Such ops go first, with every op that
    leads to them, each at its own release; the others keep their order in
    `key` (default: the schedule's cycles). (fast.vasm: the vloads of the
    last groups' inputs, behind a chain of address adds on the saturated
    scalar ALU, ran among the gathers while the load engine idled at the
    start.)"""
    end = int(cycle_of.max()) + 1
    engine = g.engine_array[g.costly_array]
    early = []
    for window in windows:
        ops = g.costly_array[engine == window.engine]
        at = cycle_of[ops]
        inside = ops[(at >= window.release) & (at < end - window.tail)]
        early.append(inside[g.release_array[inside] < window.release])
    if not sum(map(len, early)):
        return None
    key = (cycle_of if key is None else key).astype(np.float64)  # (a copy)
    cone = g.ancestors(np.concatenate(early))
    key[cone] = np.minimum(key[cone], g.release_array[cone])
    return key


def blame(g: Graph, cycle_of: np.ndarray, engines: Sequence[str], *, native: bool = True
          ) -> np.ndarray:
    """Why a schedule misses its bound, as a weight per op to move earlier.

    For each idle slot of a busy engine before that engine's last op: the op
    of that engine that became ready soonest after it, and the chain of
    predecessors that held it back (each one's latest predecessor), back to
    the first op on it that waited for a slot, which is where the time was
    lost. Every op of the chain gets the idle slots' weight. Compiled when
    built (and `native`); the NumPy version is the same."""
    n = g.n
    _, targets, lats, engine, _ = g.flat
    busy = [ENGINE_NAMES.index(name) for name in engines]
    if native and compiled.core is not None:
        latest, waited, entering = (np.empty(n, dtype=np.int32) for _ in range(3))
        compiled.core.held(n, g.offsets, targets, lats, np.ascontiguousarray(cycle_of, np.int32),
                           engine, CAPS_ARRAY, np.array(busy, dtype=np.int32), latest, waited,
                           entering)
        return chains(g, latest, waited, entering).astype(np.float64)
    c = cycle_of.astype(np.int64)
    arrive = c[g.sources] + lats  # when each edge lets its successor go
    ready_at = np.zeros(n, dtype=np.int64)
    np.maximum.at(ready_at, targets, arrive)
    latest = np.full(n, -1, dtype=np.int32)  # the predecessor that held each op back
    holds = arrive == ready_at[targets]
    latest[targets[holds]] = g.sources[holds]  # (the last edge that holds, in edge order)
    waited = c > ready_at
    # idle slots each op could have filled, had it been ready
    entering = np.zeros(n, dtype=np.int32)
    for e in busy:
        ops = np.flatnonzero(engine == e)
        if not len(ops):
            continue
        used = np.bincount(c[ops])
        idle = np.flatnonzero(used[:c[ops].max()] < CAPS[e])
        soonest = ops[np.lexsort((c[ops], ready_at[ops]))]
        j = np.searchsorted(ready_at[soonest], idle, side="right")
        some = j < len(soonest)
        np.add.at(entering, soonest[j[some]], CAPS[e] - used[idle[some]])
    return chains(g, latest, waited, entering, native=native).astype(np.float64)


def chains(g: Graph, latest: np.ndarray, waited: np.ndarray, entering: np.ndarray, *,
           native: bool = True) -> np.ndarray:
    """Blame's walk up the chains (int32 arrays): each op's `entering` weight,
    carried from op to latest predecessor (`latest`, -1 for none) while the
    op reached did not wait for a slot (`waited`), is added to every op it
    reaches. Compiled when built (and `native`); the Python walk is the same."""
    if native and compiled.core is not None:
        out = np.empty(g.n, dtype=np.int32)
        compiled.core.chains(g.n, g.order_array, latest, waited.astype(np.int32),
                             entering.copy(), out)
        return out
    # (Python lists: a NumPy element read or written one at a time costs more)
    out = [0] * g.n
    carried = entering.tolist()
    latest_of, waited_of = latest.tolist(), waited.tolist()
    for y in reversed(g.order):  # successors before predecessors
        w = carried[y]
        if w:
            u = latest_of[y]
            if u >= 0:
                out[u] += w
                if not waited_of[u]:
                    carried[u] += w
    return np.array(out, dtype=np.int32)


def workers() -> int:
    """The cores scheduling uses when not told (-j): $VASM_JOBS when it is a
    number from 1 (a parallel build's share, say), else every core this
    process may run on."""
    try:
        asked = int(os.environ.get("VASM_JOBS", ""))
    except ValueError:
        asked = 0
    if asked >= 1:
        return asked
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)
