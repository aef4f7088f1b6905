"""What runs with the cyclic collector paused leaves no reference cycles.

asm/gcpause.py moves what a paused stretch built to the oldest generation,
where the collector's own trigger for a full collection does not count it:
a cycle made there would wait for one indefinitely. A long fuzzing run grew
to 11 GB that way (syntax errors kept their tracebacks, a recursive closure
per statement) before these tests.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from pathlib import Path

import pytest

import emu
from asm import gcpause, schedule
from asm.kernel import dumps_kernel, loads_kernel
from asm.linking.link import link
from asm.linking.objects import ObjectModule
from asm.stages.assembler import assemble, assemble_full, assemble_module
from emu.batch import run_batch

ROOT = Path(__file__).resolve().parent.parent
MODULAR = ROOT / "programs" / "takehome" / "modular"

SOURCES = {
    "loops and keys": ".scratch a\n.for i = 0, 3\nadd a, a, a\ncompare a, (i, \"k\\n\")\n"
                      ".endfor\nhalt\n",
    "syntax errors": ".scratch a\nadd a, a,, a\n.macro m x\n  add {x}, {x}\n.endm\nm a\n"
                     "comment \"\\x41\"\n",
    "other errors": ".scratch a\nadd a, b, c\nfoo a\n.for i = 0, 2\nadd a, a, q[i]\n.endfor\n"
                    ".include \"nowhere.vasm\"\nconst a, 1 +\n",
    "baseline": (ROOT / "programs" / "takehome" / "baseline.vasm").read_text(),
}


def cyclic_garbage(work: Callable[[], object]) -> int:
    """How many objects `work` left in reference cycles (none is freed by the
    collector in between: it is off, and then asked)."""
    work()  # caches and lazily built tables first
    gc.collect()
    gc.disable()
    try:
        work()
        return gc.collect()
    finally:
        gc.enable()


@pytest.mark.parametrize("name", SOURCES)
@pytest.mark.parametrize("run", [assemble_full, assemble_module], ids=["full", "module"])
def test_assembling_leaves_no_cycles(run, name):
    assert cyclic_garbage(lambda: run(SOURCES[name], filename="k.vasm",
                                      defines={"ROUNDS": 1, "BATCH": 4})) == 0


def test_reading_linking_and_running_leave_no_cycles():
    kernel = assemble(MODULAR.parent / "fast.vasm")
    text = dumps_kernel(kernel)
    assert cyclic_garbage(lambda: loads_kernel(text)) == 0
    paths = [MODULAR / f for f in ("header.vasm", "tables.vasm", "rounds.vasm")]

    def linked():
        return link([ObjectModule(p.stem, assemble_module(p).module) for p in paths])
    assert cyclic_garbage(linked) == 0
    mem = [0] * 4096
    assert cyclic_garbage(lambda: emu.run(kernel, list(mem), max_cycles=50)) == 0
    assert cyclic_garbage(lambda: run_batch(kernel, [list(mem)] * 3, max_cycles=50)) == 0


@pytest.mark.parametrize("level", [1, 2, 3])
def test_scheduling_leaves_no_cycles(level):
    # (the scheduler runs with the collector paused too: asm/sched/schedule.py)
    # (its `.temp` words renamed, two rounds take backward passes too; on two
    # threads, whose tries run ahead and are dropped)
    assembly = assemble_full(MODULAR.parent / "fast.vasm", defines={"ROUNDS": 2})
    assert cyclic_garbage(lambda: schedule(assembly, level=level, budget=0.5, jobs=2)) == 0


class _Node:
    pass


def test_a_cycle_made_while_paused_is_collected_in_the_end(monkeypatch):
    # The safety net: after enough objects moved, one full collection.
    monkeypatch.setattr(gcpause, "FULL_COLLECTION_AFTER", 50_000)
    monkeypatch.setattr(gcpause, "_aged", 0)
    gc.collect()
    with gcpause.gc_paused():
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        alive = weakref.ref(a)
        del a, b
    assert alive() is not None  # moved to the oldest generation, not collected...
    for _ in range(3):
        with gcpause.gc_paused():
            kept = [[i] for i in range(20_000)]
        del kept
    assert alive() is None  # ...until enough moved after it
