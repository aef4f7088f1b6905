"""The compiled core (emu/_core.c) when the install built it from today's ISA
table, else None. Its own module, importing nothing of the engines, so that
the quick `vemu run` (emu/launch.py) finds the core for the price of loading
it; emu/native.py says what the core is for."""

from __future__ import annotations

from .generated_table import CORE_TABLE_ID

try:
    from . import _core as core
except ImportError:  # pragma: no cover - depends on the install
    core = None
# The table the installed core was built from (None: no core).
BUILT_FROM: str | None = None if core is None else core.TABLE_ID
if BUILT_FROM != CORE_TABLE_ID:
    # Built before the ISA table last changed (an editable install not rebuilt):
    # its op code may differ from the table's, so it is not used.
    core = None
