"""Hypothesis strategies for random valid programs over every op of the ISA table."""

from __future__ import annotations

from hypothesis import strategies as st

from asm import isa

KEYS = [(0, i, "val") for i in range(12)]  # keys the tests' value traces hold
MISSING_KEY = (9, 9, "missing")
SCRATCH_SPAN = 48  # a small scratch window, so slots collide often
MEM_SIZE = 40


def _operand(kind: isa.Kind, n_bundles: int, is_offset: bool):
    K = isa.Kind
    if kind in (K.DST, K.SRC, K.VDST, K.VSRC):
        return st.integers(0, SCRATCH_SPAN)
    if kind is K.IMM:
        if is_offset:
            return st.integers(0, 7)
        return st.one_of(st.integers(-3, MEM_SIZE + 3), st.integers(-(2**33), 2**33))
    if kind is K.TARGET:
        return st.integers(0, n_bundles + 1)
    if kind is K.OFFSET:
        return st.integers(-n_bundles - 2, n_bundles + 1)
    if kind is K.KEY:
        return st.sampled_from([*KEYS, MISSING_KEY])
    if kind is K.KEYS:
        return st.lists(st.sampled_from(KEYS), min_size=isa.VLEN, max_size=isa.VLEN).map(tuple)
    return st.just("note")  # TEXT


@st.composite
def slots(draw, n_bundles: int, ops=isa.OPS):
    op = draw(st.sampled_from(ops))
    operands = [draw(_operand(o.kind, n_bundles, o.name == op.offset)) for o in op.operands]
    return op.engine, (op.name, *operands)


@st.composite
def bundles(draw, n_bundles: int, max_slots: int = 5):
    """A bundle within slot limits; engines in a random order; sometimes empty lists."""
    bundle: dict[str, list] = {}
    for _ in range(draw(st.integers(0, max_slots))):
        engine, slot = draw(slots(n_bundles))
        if len(bundle.get(engine, ())) < isa.SLOT_LIMITS[engine]:
            bundle.setdefault(engine, []).append(slot)
    if draw(st.integers(0, 9)) == 0:
        bundle[draw(st.sampled_from(isa.ENGINES))] = []  # an engine with no slots
    return bundle


@st.composite
def programs(draw, max_bundles: int = 12):
    n = draw(st.integers(1, max_bundles))
    prologue = []
    if draw(st.booleans()):  # give some scratch words small addresses and values
        for d in range(0, 8):
            prologue.append({"load": [("const", d, draw(st.integers(0, MEM_SIZE + 2)))]})
    body = [draw(bundles(n + len(prologue))) for _ in range(n)]
    return prologue + body


@st.composite
def memories(draw):
    return draw(st.lists(st.integers(0, isa.WORD_MASK), min_size=MEM_SIZE, max_size=MEM_SIZE))


def value_trace(mem: list[int]) -> dict:
    return {k: mem[i % len(mem)] for i, k in enumerate(KEYS)}
