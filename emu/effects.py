"""What the generated code of the fast engine produces and raises (see
emu/codegen.py and emu/generated_fast.py): the kinds of a slot's effect,
the control-flow results, and the faults a closure raises before it writes
(the bundle is then replayed on the reference engine, which names them)."""

from __future__ import annotations

from asm import isa

# What a staged slot produces: a value for a fixed scratch key (an int or a
# slice), a (key, value) memory write, a debug check with no result, a
# deferred trace append, or a control-flow result.
SCRATCH, MEMORY, CHECK, TRACE, CONTROL = range(5)
# What a control closure returns besides a new pc or None.
HALT = -1
PAUSE = -2
# The slice of each vector in scratch, made once (a lookup is cheaper than
# building a slice; both are shorter than VLEN near the end, which unpacking
# into VLEN names reports as a fault).
VECTORS = [slice(a, a + isa.VLEN) for a in range(isa.SCRATCH_SIZE)]


class MemFault(Exception):
    """A vector memory access that would run off the image (slices do not raise)."""


class CompareFault(Exception):
    """A debug compare that does not hold."""


class JumpFault(Exception):
    """A taken jump outside the program."""


def kind_of(op: isa.Op) -> int | None:
    """What an op's slot produces in a bundle, from its meaning."""
    m = op.meaning
    if m.value is not None:
        return SCRATCH
    if m.store is not None:
        return MEMORY
    if m.trace is not None:
        return TRACE
    if m.jump is not None or m.stop is not None:
        return CONTROL
    if m.compare is not None:
        return CHECK
    return None  # no effect (comment)
