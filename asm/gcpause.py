"""Pausing the cyclic garbage collector around bulk allocation."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Building many small acyclic objects (decoded programs, parsed kernels)
    otherwise triggers repeated full collections over the whole heap, which can
    cost more than the work itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            _age_young_objects()
            gc.enable()


def _age_young_objects() -> None:
    """Move every tracked object to the oldest generation, cheaply (a list
    splice each way). Otherwise the first allocation after the pause would
    scan everything built during it as young garbage candidates, which costs
    about a tenth of building a large kernel; what was built is kept anyway.
    Skipped when the program has frozen objects of its own (gc.freeze), which
    unfreezing would release."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
