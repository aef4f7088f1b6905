"""Independent tasks on threads, their results in the order given: what lets
the scheduler's search run passes side by side (asm/sched/search.py) and
still find what one thread finds. The compiled pass releases the
interpreter's lock, so the threads' passes run at once."""

from __future__ import annotations

import collections
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


class Dropped(Exception):
    """Raised by a task told that its result is no longer wanted (the search's
    trials raise it between passes)."""


def side_by_side(tasks: Iterable[Callable[[threading.Event | None], T]], threads: int
                 ) -> Iterator[T]:
    """The tasks' results in order, up to `threads` of them running at a time
    (on threads: the passes release the interpreter's lock). A task is taken
    from `tasks` only when a thread is free for it and the caller has asked
    for the next result (so task j may build on what the caller made of the
    results up to j - threads), and called with an event that is set once its
    result is no longer wanted (None when run alone): once the caller stops
    asking (closes the iterator), the tasks still running are told so,
    waited for and dropped."""
    if threads <= 1:
        for task in tasks:
            yield task(None)
        return
    # The same threads run every task (one started per task kept the caller
    # waiting in Thread.start for a new thread's first turn: 1-2 ms a task,
    # a tenth of fast.vasm's search).
    jobs: queue.SimpleQueue = queue.SimpleQueue()
    running: collections.deque = collections.deque()  # (done, box) of each, in order
    dropped = threading.Event()
    pending = iter(tasks)

    def work() -> None:
        while (job := jobs.get()) is not None:
            task, box, done = job
            try:
                box.append((True, task(dropped)))
            except BaseException as e:  # (handed to the caller, raised there)
                box.append((False, e))
            done.set()

    def launch() -> bool:
        task = next(pending, None)
        if task is None:
            return False
        box: list = []
        done = threading.Event()
        jobs.put((task, box, done))
        running.append((done, box))
        return True

    workers = []
    try:
        while len(running) < threads and launch():
            workers.append(threading.Thread(target=work, daemon=True))
            workers[-1].start()
        while running:
            done, box = running.popleft()
            done.wait()
            # (taken out of the box: a failure's traceback holds the frame that
            # holds the box, a reference cycle while the box holds it)
            ok, value = box.pop()
            if not ok:
                raise value
            yield value
            launch()  # (once the caller has taken the result: tasks may build on it)
    finally:
        dropped.set()
        for done, box in running:
            done.wait()
            box.clear()
        for _ in workers:
            jobs.put(None)
        for thread in workers:
            thread.join()
