"""The compiled graph walks and list-scheduling pass (asm/sched/_listsched.c),
or None when the install could not build them; every caller then runs its
Python twin, the same algorithm step for step (tests/test_listsched.py checks
that both agree)."""

from __future__ import annotations

from types import ModuleType

core: ModuleType | None
try:
    from . import _listsched as core
except ImportError:  # pragma: no cover - depends on the install
    core = None
