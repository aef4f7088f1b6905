"""Long work off the language server's request loop.

Scheduling a document (for its inlay hints and code lens) can take minutes
on a large file, so it runs in a worker process, one job per document: a
newer version's job kills the older one (the process is the cancel flag
that always works), and when it ends the server asks the client to refresh
its views. The job also works out the bounds the code lens shows, which on a
large program take seconds too. Worker processes come from a fork server
that has the scheduler loaded already, so a job starts in milliseconds and
never inherits the server's threads.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..kernel import Kernel
from ..sched.bounds import ProgramBounds


@dataclass(frozen=True)
class Views:
    """What the scheduled views show of one assembly: the kernel as the
    scheduler packs it (None: as written), its cycles and its bounds."""

    level: int | None  # the level scheduled at; None: the program as written
    kernel: Kernel | None
    cycles: int
    bounds: ProgramBounds


def compute_views(kernel: Kernel, level: int | None, split: bool) -> Views:
    """In the worker: schedule `kernel` at `level` (None: only its bounds as
    written)."""
    if level is None:
        from ..sched.bounds import program_bounds
        return Views(None, None, sum(kernel.cycle_cost), program_bounds(kernel))
    from ..sched.schedule import schedule_kernel
    s = schedule_kernel(kernel, level=level, split=split, jobs=1)
    return Views(level, s.kernel, s.after, s.bounds)


def _child(conn: Any, fn: Callable, args: tuple) -> None:
    try:
        conn.send(("ok", fn(*args)))
    except Exception as e:  # noqa: BLE001 - the server reports it; a worker never dies silently
        conn.send(("error", f"{type(e).__name__}: {e}"))
    finally:
        conn.close()


class Jobs:
    """One job per key (a document's URI), each in a process of its own."""

    def __init__(self) -> None:
        self._running: dict[str, multiprocessing.process.BaseProcess] = {}
        self._lock = threading.Lock()
        self._context = None
        self._closed = False  # after close(), a job never starts

    @property
    def context(self):
        if self._context is None:
            try:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["asm.editor.background", "asm.sched.schedule",
                                                "asm.sched.bounds"])
            except ValueError:  # no fork server on this platform
                context = multiprocessing.get_context("spawn")
            self._context = context
        return self._context

    def warm(self) -> None:
        """Bring up the fork server in the background, before the first job."""
        def up() -> None:
            if self.context.get_start_method() == "forkserver":
                from multiprocessing import forkserver
                forkserver.ensure_running()
        threading.Thread(target=up, daemon=True, name="job server").start()

    def start(self, key: str, fn: Callable, args: tuple,
              done: Callable[[str, Any], None]) -> None:
        """Run fn(*args) in a process; `done(status, value)` is called (in a
        thread of its own) with ("ok", result) or ("error", message), or
        ("cancelled", None) when a newer job for `key` replaced it (or close()
        killed it). After close(), nothing starts and nothing is called."""
        self.cancel(key)
        receive, send = self.context.Pipe(duplex=False)
        process = self.context.Process(target=_child, args=(send, fn, args), daemon=True)
        with self._lock:
            if self._closed:
                receive.close()
                send.close()
                return
            self._running[key] = process

        def wait() -> None:
            # The process starts here, not on the caller's thread, and outside
            # the lock: the first start brings up the fork server (a quarter of
            # a second, seconds on a busy machine), and the server's loop must
            # not wait behind it to cancel or start another job.
            status, value = "cancelled", None
            with self._lock:
                cancelled = self._running.get(key) is not process
            if not cancelled:
                try:
                    process.start()
                except Exception as e:  # noqa: BLE001 - (out of processes, say): the server says so
                    status, value = "error", f"the job could not start: {type(e).__name__}: {e}"
                with self._lock:
                    cancelled = self._running.get(key) is not process
                if cancelled and process.pid is not None:  # (cancel() came while it started)
                    process.kill()
            send.close()
            if process.pid is not None:
                with contextlib.suppress(EOFError, OSError):  # (killed)
                    status, value = receive.recv()
                process.join()
            receive.close()
            with self._lock:
                if self._running.get(key) is process:
                    del self._running[key]
            done("cancelled" if cancelled else status, value)

        threading.Thread(target=wait, daemon=True, name=f"job {key}").start()

    def cancel(self, key: str) -> None:
        with self._lock:
            process = self._running.pop(key, None)
        if process is not None and process.pid is not None and process.is_alive():
            process.kill()

    def running(self, key: str) -> bool:
        with self._lock:
            return key in self._running

    def close(self) -> None:
        """Kill every job, and start none from now on."""
        with self._lock:
            self._closed = True
            processes = list(self._running.values())
            self._running.clear()
        for p in processes:
            if p.pid is not None and p.is_alive():
                p.kill()
