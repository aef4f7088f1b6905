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


# Objects moved to the oldest generation since the last full collection we ran.
_aged = 0
FULL_COLLECTION_AFTER = 5_000_000


def _age_young_objects() -> None:
    """Move every tracked object to the oldest generation, cheaply (a list
    splice each way). Otherwise the first allocation after the pause would
    scan everything built during it as young garbage candidates, which costs
    about a tenth of building a large kernel; what was built is kept anyway.
    Skipped when the program has frozen objects of its own (gc.freeze), which
    unfreezing would release.

    Objects moved this way do not count towards the collector's own trigger
    for a full collection, so any reference cycle among them would wait for
    one indefinitely (our code makes none: tests/test_gcpause.py). As a
    safety net for a long-lived process, a full collection runs after every
    FULL_COLLECTION_AFTER objects moved."""
    global _aged
    if gc.get_freeze_count() == 0:
        _aged += gc.get_count()[0]  # the young objects (net) since the last collection
        gc.freeze()
        gc.unfreeze()
        if _aged > FULL_COLLECTION_AFTER:
            _aged = 0
            gc.collect()
