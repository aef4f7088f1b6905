"""The language server's background jobs (asm/editor/background.py): one per
key, each in a process of its own; cancelling or replacing one never waits
for a process that is still starting, and nothing starts after close()."""

from __future__ import annotations

import operator
import queue
import threading
import time
from types import SimpleNamespace

from asm.editor.background import Jobs


def _slow_to_start(jobs: Jobs, entered: threading.Event, gate: threading.Event):
    """`jobs` whose processes start only once `gate` opens (as the first job
    waits for the fork server), saying when a start has begun."""
    real = jobs.context

    def process(*args, **kwargs):
        p = real.Process(*args, **kwargs)
        start = p.start

        def slow() -> None:
            entered.set()
            gate.wait(60)
            del p.start  # (the process object is pickled for the fork server)
            start()

        p.start = slow
        return p

    jobs._context = SimpleNamespace(Pipe=real.Pipe, Process=process)


def _collect() -> tuple[queue.Queue, callable]:
    results: queue.Queue = queue.Queue()
    return results, lambda status, value: results.put((status, value))


def test_a_job_gives_its_result():
    jobs = Jobs()
    results, done = _collect()
    jobs.start("k", operator.add, (2, 3), done)
    assert results.get(timeout=60) == ("ok", 5)
    assert not jobs.running("k")
    jobs.start("k", operator.truediv, (1, 0), done)
    status, message = results.get(timeout=60)
    assert status == "error" and "ZeroDivisionError" in message


def test_cancel_and_start_never_wait_for_a_process_that_is_starting():
    jobs = Jobs()
    entered, gate = threading.Event(), threading.Event()
    _slow_to_start(jobs, entered, gate)
    results, done = _collect()
    try:
        jobs.start("k", time.sleep, (60,), done)
        assert entered.wait(30)
        # The first job's process is starting; replacing it returns at once.
        replacing = threading.Thread(target=jobs.start, args=("k", operator.add, (3, 4), done))
        replacing.start()
        replacing.join(10)
        assert not replacing.is_alive(), "start() waited for another job's process to start"
    finally:
        gate.set()
    # The first job, cancelled while it started, is killed once it has a pid;
    # the second runs.
    said = sorted([results.get(timeout=60), results.get(timeout=60)], key=str)
    assert said == [("cancelled", None), ("ok", 7)]
    assert not jobs.running("k")


def test_a_job_that_cannot_start_is_an_error():
    jobs = Jobs()
    real = jobs.context

    def process(*args, **kwargs):
        p = real.Process(*args, **kwargs)

        def fail() -> None:
            raise OSError("out of processes")

        p.start = fail
        return p

    jobs._context = SimpleNamespace(Pipe=real.Pipe, Process=process)
    results, done = _collect()
    jobs.start("k", operator.add, (1, 1), done)
    assert results.get(timeout=30) == ("error", "the job could not start: OSError: out of "
                                                "processes")
    assert not jobs.running("k")


def test_close_kills_the_jobs_and_starts_no_more():
    jobs = Jobs()
    results, done = _collect()
    jobs.start("k", time.sleep, (60,), done)
    deadline = time.monotonic() + 30
    while jobs._running["k"].pid is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process = jobs._running["k"]
    jobs.close()
    assert results.get(timeout=30) == ("cancelled", None)
    process.join(10)
    assert not process.is_alive()
    jobs.start("k", operator.add, (1, 1), done)
    time.sleep(0.5)
    assert results.empty() and not jobs.running("k")
