"""The compiled list-scheduling pass, graph walks and dependence finding
(asm/sched/_listsched.c), or None when the install could not build them;
every caller then runs its Python twin, the same algorithm step for step
(property tests hold each pair to the same answers: tests/test_listsched.py,
test_search.py, test_edges.py, test_schedule.py)."""

from __future__ import annotations

from types import ModuleType

core: ModuleType | None
try:
    from . import _listsched as core
except ImportError:  # pragma: no cover - depends on the install
    core = None
