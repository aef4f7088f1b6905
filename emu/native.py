"""The fast engine's compiled core (emu/_core.c), when the install could build it.

A program the core accepts is decoded and checked in one pass over the
user's bundles, with no Kernel built, and runs in C; the Python engines
stay the authority for everything else:

- a program the core does not accept plainly (anything unusual, valid or
  not) is loaded the Python way, which accepts it or names the problem;
- runs with debug slots on use the Python fast engine (the core does not
  read the value trace);
- a bundle that faults is replayed on the reference engine, which raises
  the exact EmuError (the core stops before the bundle changes anything).

Whether the core is there changes no result, only the time (the
differential tests run both ways).
"""

from __future__ import annotations

from typing import Any

from .compiled import core as _core
from .state import State, Status

AVAILABLE = _core is not None

# A run's status code -> the Status it stopped with (the other codes: below).
STATUS = {0: Status.FINISHED, 1: Status.HALTED, 2: Status.PAUSED}
DECLINED, FAULT, LIMIT = -1, 3, 4


def decode(program: Any) -> Any | None:
    """The program decoded for `run`, or None (no core, or not plainly valid)."""
    if _core is None:
        return None
    return _core.decode(program)


def run(decoded: Any, state: State, *, pause: bool, max_cycles: int | None
        ) -> tuple[int, int] | None:
    """Run from `state`, updating it in place. None when the run stopped
    (finished, halted or paused: state.status says which); (FAULT, pc) when
    the bundle at pc faults (the state is the one before it); (LIMIT, pc) when
    the taken jump in bundle pc passed `max_cycles` (the state after it);
    (DECLINED, pc) without running when the state holds something that is not
    a word (a Python engine then runs it)."""
    out = _core.run(decoded, state.scratch, state.mem, state.trace_buffer, state.pc,
                    state.cycle, pause, -1 if max_cycles is None else max_cycles)
    if out is None:
        return DECLINED, state.pc
    status, state.pc, state.cycle, at = out
    if status in STATUS:
        state.status = STATUS[status]
        return None
    return status, at


def run_images(decoded: Any, memory: Any, scratch: Any, *, max_cycles: int | None
               ) -> list[tuple[int, int, int, int, list[int]]]:
    """Run from the start on every row of `memory` (a writable k x n uint32
    array) with the same row of `scratch` (k x SCRATCH_SIZE), updating both
    in place and running through pauses: each row's (status, pc, cycle, at,
    trace), status and at as `run` returns them (FAULT leaves that row's
    state from before bundle `at`, LIMIT from after the jump in it)."""
    return _core.run_images(decoded, memory, scratch, -1 if max_cycles is None else max_cycles)


def words(images: list, n: int) -> bytearray | None:
    """Lists of `n` words each as one writable buffer (a bytearray) of uint32
    words, row after row; None when any is not such a list (or there is no
    core)."""
    if _core is None:
        return None
    return _core.words(images, n)
