"""Every generated file is what tests/regenerate.py would write."""

from __future__ import annotations

import regenerate


def test_every_generated_file_is_current():
    assert regenerate.stale() == [], "run: python tests/regenerate.py"


def test_regenerating_covers_every_generator():
    """Each group makes at least one file, and no two make the same one."""
    made = [set(make(regenerate.ROOT)) for make in regenerate.generators().values()]
    assert all(made)
    assert sum(map(len, made)) == len(set().union(*made))
