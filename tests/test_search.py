"""The scheduler's search runs independent passes side by side on threads
(asm/sched/search.py): what it finds, the passes it counts and the progress
it reports are those of the single line, whatever the number of threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from test_listsched import graphs

from asm import isa
from asm.sched import compiled
from asm.sched import search as search_module
from asm.sched.bounds import bounds
from asm.sched.graph import ENGINE_INDEX, ENGINE_NAMES, Graph
from asm.sched.listsched import list_schedule
from asm.sched.sidebyside import side_by_side
from asm.sched.tuning import LEVELS


def _found(g, bound, level, seed, jobs):
    lines: list[str] = []
    found = search_module.search(g, bound, 2 * g.n + 1, LEVELS[level], seed=seed,
                                 progress=lines.append, jobs=jobs, windows=bounds(g).windows)
    cycles = None if found.cycle_of is None else found.cycle_of.tolist()
    return cycles, found.cost, found.how, found.passes, lines


@pytest.mark.skipif(compiled.core is None, reason="the compiled pass is not built (no threads)")
@settings(deadline=None, max_examples=examples(40))
@given(graphs(max_ops=90), st.sampled_from([1, 2]), st.integers(0, 3), st.integers(2, 4),
       st.booleans())
def test_threads_change_nothing_the_search_finds(g, level, seed, jobs, unreachable):
    # (bound 0 cannot be met: the search then runs its whole budget)
    bound = 0 if unreachable else bounds(g).paths
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_module, "THREADED_OPS", 0)  # threads even on small graphs
        alone = _found(g, bound, level, seed, 1)
        side_by_side = _found(g, bound, level, seed, jobs)
    assert side_by_side == alone


def test_a_failing_pass_on_a_thread_reaches_the_caller():
    def fails(dropped):
        raise ValueError("on a thread")

    results = side_by_side([lambda dropped: 1, fails, lambda dropped: 3], 2)
    assert next(results) == 1
    with pytest.raises(ValueError, match="on a thread"):
        next(results)


def test_tasks_run_ahead_are_told_they_are_dropped_and_no_more_are_taken():
    taken, told = [], []

    def tasks():
        for k in range(10):
            taken.append(k)
            yield (lambda dropped: 0) if k == 0 else (lambda dropped, k=k: told.append(
                (k, dropped.wait(10))))

    results = side_by_side(tasks(), 2)
    assert next(results) == 0
    results.close()  # the caller stops: the tasks still running are let go, and waited for
    assert told == [(1, True)]
    assert taken == [0, 1]  # the next is taken once the caller asks for the result after 0


def test_the_threads_run_every_task_and_none_outlives_the_caller():
    before = threading.active_count()
    ran_on = set()

    def task(dropped):
        ran_on.add(threading.current_thread().name)  # (names are not reused)
        return len(ran_on)

    assert len(list(side_by_side([task] * 12, 3))) == 12
    assert 1 <= len(ran_on) <= 3  # (the same threads take task after task)
    results = side_by_side([task] * 12, 3)
    next(results)
    results.close()
    assert threading.active_count() == before


def test_a_task_is_taken_once_the_caller_has_every_result_before_the_one_ahead_of_it():
    # (what the perturbation's tries build on: try j starts from what the
    # caller made of the results up to j - 2)
    seen: list[int] = []
    at_take = []

    def tasks():
        for k in range(8):
            at_take.append((k, len(seen)))
            yield lambda dropped, k=k: k

    for threads in (1, 2):
        seen.clear()
        at_take.clear()
        for value in side_by_side(tasks(), threads):
            seen.append(value)
        assert seen == list(range(8))
        assert all(taken >= k - 1 for k, taken in at_take), (threads, at_take)


def test_clearing_moves_a_load_and_its_address_out_of_the_gathers_window():
    """As in fast.vasm: six loads (the gathers) cannot start before cycle 3
    and set the bound (3 + 6 / 2 = 6 cycles); another load, whose address an
    ALU op makes, could run at cycle 1, but a priority that puts that ALU op
    last leaves it behind 36 others on the ALU, and the load lands among the
    gathers, a cycle over the bound. Cleared, the ALU op and its load go at
    their releases and the schedule meets the bound."""
    alu, load, flow = (ENGINE_INDEX[e] for e in ("alu", "load", "flow"))
    # 0: alu -> 1: load; 2 -> 3 -> 4: flow -> the gathers 5..10; 11..46: alu
    succ = ([((1, 1),), (), ((3, 1),), ((4, 1),), tuple((k, 1) for k in range(5, 11))]
            + [()] * 42)
    g = Graph(succ, [alu, load, flow, flow, flow] + [load] * 6 + [alu] * 36)
    windows = bounds(g).windows
    assert bounds(g).paths == 6 and [(w.engine, w.release) for w in windows] == [(load, 3)]
    cycle_of = list_schedule(g, [9, 9, 0, 0, 0] + [1] * 6 + [0] * 36)
    assert g.cost(cycle_of) == 7 and cycle_of[1] >= 3
    key = search_module.cleared(g, cycle_of, windows)
    assert key[0] == 0 and key[1] == 1
    assert g.cost(list_schedule(g, key)) == 6
    # (nothing left in the window: nothing to clear)
    assert search_module.cleared(g, list_schedule(g, key), windows) is None


@settings(deadline=None, max_examples=examples(150))
@given(graphs(), st.data())
def test_ancestors_are_the_ops_with_a_path_to_the_given_ones(g, data):
    ops = np.array(data.draw(st.lists(st.integers(0, max(0, g.n - 1)), max_size=4)) if g.n
                   else [], dtype=np.int64)
    reached = set(ops.tolist())
    for i in reversed(range(g.n)):  # (edges go from lower to higher op numbers)
        if any(s in reached for s, _ in g.succ[i]):
            reached.add(i)
    for native in (True, False):
        assert np.flatnonzero(g.ancestors(ops, native=native)).tolist() == sorted(reached)


@settings(deadline=None, max_examples=examples(150))
@given(graphs(), st.data())
def test_a_cleared_priority_moves_only_the_windows_early_ops_and_those_leading_to_them(g, data):
    priority = data.draw(st.lists(st.integers(0, 9), min_size=g.n, max_size=g.n))
    cycle_of = list_schedule(g, priority)
    windows = bounds(g).windows
    key = search_module.cleared(g, cycle_of, windows) if g.n else None
    end = int(cycle_of.max()) + 1 if g.n else 0
    early = [i for i in g.costly for w in windows
             if g.engine[i] == w.engine and w.release <= cycle_of[i] < end - w.tail
             and g.releases[i] < w.release]
    if not early:
        assert key is None
        return
    cone = g.ancestors(np.array(early))
    assert all(key[i] <= g.releases[i] for i in early)
    moved = np.flatnonzero(key != cycle_of)
    assert cone[moved].all() and (key[moved] == g.release_array[moved]).all()


@pytest.mark.skipif(compiled.core is None, reason="the compiled walk is not built")
@settings(deadline=None, max_examples=examples(150))
@given(graphs(), st.data())
def test_the_compiled_blame_walk_gives_the_python_weights(g, data):
    # (latest: any op or none, as the walk allows; blame gives a predecessor)
    ops = st.integers(-1, g.n - 1) if g.n else st.just(-1)
    latest = np.array(data.draw(st.lists(ops, min_size=g.n, max_size=g.n)), dtype=np.int32)
    waited = np.array(data.draw(st.lists(st.booleans(), min_size=g.n, max_size=g.n)), dtype=bool)
    entering = np.array(data.draw(st.lists(st.integers(0, 6), min_size=g.n, max_size=g.n)),
                        dtype=np.int32)
    weights = entering.tolist()
    native = search_module.chains(g, latest, waited, entering)
    assert entering.tolist() == weights  # (the caller's weights are left alone)
    assert native.tolist() == search_module.chains(g, latest, waited, entering,
                                                   native=False).tolist()


@pytest.mark.skipif(compiled.core is None, reason="the compiled blame is not built")
@settings(deadline=None, max_examples=examples(150))
@given(graphs(), st.data())
def test_the_compiled_blame_gives_the_numpy_weights(g, data):
    # (a schedule the graph allows, under any priority; any engines with
    # slots blamed, as bottlenecks are)
    priority = data.draw(st.lists(st.integers(0, 9), min_size=g.n, max_size=g.n))
    cycle_of = list_schedule(g, priority)
    slotted = [e for e in ENGINE_NAMES if e in isa.SLOT_LIMITS]
    engines = data.draw(st.lists(st.sampled_from(slotted), unique=True))
    native = search_module.blame(g, cycle_of, engines)
    assert native.tolist() == search_module.blame(g, cycle_of, engines, native=False).tolist()


def test_vasm_jobs_sets_the_cores_a_schedule_takes_unless_told(monkeypatch):
    monkeypatch.delenv("VASM_JOBS")
    every = search_module.workers()  # every core this process may run on
    monkeypatch.setenv("VASM_JOBS", str(every + 2))
    assert search_module.workers() == every + 2
    for ignored in ("0", "-2", "many", ""):
        monkeypatch.setenv("VASM_JOBS", ignored)
        assert search_module.workers() == every
