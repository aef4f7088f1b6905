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


# Ops that never move the pc: loop bodies are made of these, so loops end.
# (halt and pause stay: they stop the run or the caller, never loop.)
STRAIGHT_OPS = [op for op in isa.OPS
                if op.control in (None, isa.Control.HALT, isa.Control.PAUSE)]
NON_DIVIDING_OPS = [op for op in STRAIGHT_OPS if not op.meaning.divides]
# Scratch words for loop counters, beyond every random operand (vectors at
# SCRATCH_SPAN reach SCRATCH_SPAN + VLEN - 1), so no random slot clobbers them.
LOOP_WORDS = (60, 61, 62, 63)


@st.composite
def slots(draw, n_bundles: int, ops=isa.OPS):
    op = draw(st.sampled_from(ops))
    operands = [draw(_operand(o.kind, n_bundles, o.name == op.offset)) for o in op.operands]
    return op.engine, (op.name, *operands)


@st.composite
def bundles(draw, n_bundles: int, max_slots: int = 5, ops=isa.OPS):
    """A bundle within slot limits; engines in a random order; sometimes empty
    lists; sometimes an engine filled to its limit."""
    bundle: dict[str, list] = {}
    for _ in range(draw(st.integers(0, max_slots))):
        engine, slot = draw(slots(n_bundles, ops))
        if len(bundle.get(engine, ())) < isa.SLOT_LIMITS[engine]:
            bundle.setdefault(engine, []).append(slot)
    if draw(st.integers(0, 9)) == 0:
        bundle[draw(st.sampled_from(isa.ENGINES))] = []  # an engine with no slots
    if draw(st.integers(0, 11)) == 0:  # one engine at its limit
        engine = draw(st.sampled_from([e for e in isa.ENGINES if e != "debug"]))
        full = bundle.setdefault(engine, [])
        engine_ops = [op for op in ops if op.engine == engine]
        while engine_ops and len(full) < isa.SLOT_LIMITS[engine]:
            full.append(draw(slots(n_bundles, engine_ops))[1])
    return bundle


@st.composite
def overfull_bundles(draw, n_bundles: int = 4) -> tuple[dict, str]:
    """(a bundle with one slot more than an engine's limit, that engine): invalid."""
    engine = draw(st.sampled_from([e for e in isa.ENGINES if e not in isa.UNENFORCED_LIMITS]))
    ops = [op for op in isa.OPS if op.engine == engine]
    bundle = draw(bundles(n_bundles, max_slots=2))
    bundle[engine] = [draw(slots(n_bundles, ops))[1]
                      for _ in range(isa.SLOT_LIMITS[engine] + 1)]
    return bundle, engine


@st.composite
def structured_programs(draw, max_segments: int = 3, max_body: int = 4, depth: int = 0,
                        base: int = 0):
    """Programs with control flow that ends: straight runs, loops counted by a
    constant or by a word of the memory image (so batched images diverge),
    nested loops, forward jumps over code, and a closing halt. Jumps are
    absolute or relative; targets are worked out from the pcs (`base` is the
    pc the program will start at, for a loop nested in another)."""
    out: list[dict] = []
    # Half the programs leave out division, so more of them run to the end.
    ops = STRAIGHT_OPS if draw(st.booleans()) else NON_DIVIDING_OPS
    if depth == 0 and draw(st.booleans()):  # small addresses and values, like programs()
        out.extend({"load": [("const", d, draw(st.integers(0, MEM_SIZE + 2)))]}
                   for d in range(8))

    def straight(n: int) -> list[dict]:
        return [draw(bundles(64, ops=ops)) for _ in range(n)]

    def emit(part: list[dict]) -> None:
        out.extend(part)

    counter = LOOP_WORDS[depth * 2]
    for _ in range(draw(st.integers(1, max_segments))):
        kind = draw(st.sampled_from(["straight", "counted", "from memory", "skip"]
                                    + (["nested"] if depth == 0 else [])))
        if kind == "straight":
            emit(straight(draw(st.integers(1, max_body))))
        elif kind == "skip":  # a forward jump over code that never runs
            skipped = straight(draw(st.integers(1, 2)))
            pc = len(out)
            if draw(st.booleans()):
                emit([{"flow": [("jump", base + pc + 1 + len(skipped))]}])
            else:
                emit([{"load": [("const", counter, 1)]},
                      {"flow": [("cond_jump_rel", counter, len(skipped))]}])
            emit(skipped)
        else:
            if kind == "from memory":  # 0..3 trips, read from the image
                emit([{"load": [("const", counter, draw(st.integers(0, MEM_SIZE - 1)))]},
                      {"load": [("load", counter, counter)]},
                      {"load": [("const", counter + 1, 4)]},
                      {"alu": [("%", counter, counter, counter + 1)]},
                      {"alu": [("+", counter, counter, counter + 1)]}])  # at least 4 trips
            else:
                emit([{"load": [("const", counter, draw(st.integers(1, 3)))]}])
            start = len(out)
            if kind == "nested":
                emit(draw(structured_programs(max_segments=2, max_body=2, depth=1,
                                              base=base + start)))
            else:
                emit(straight(draw(st.integers(1, max_body))))
            emit([{"flow": [("add_imm", counter, counter, -1)]}])
            if draw(st.booleans()):
                emit([{"flow": [("cond_jump", counter, base + start)]}])
            else:
                emit([{"flow": [("cond_jump_rel", counter, start - len(out) - 1)]}])
    if depth == 0 and draw(st.booleans()):
        emit([{"flow": [("halt",)]}, *straight(1)])  # code after the halt never runs
    return out


def any_programs(max_bundles: int = 12):
    """Any valid program: random bundles with random jumps (which may loop
    until the cycle limit), or structured control flow that ends."""
    return st.one_of(programs(max_bundles), structured_programs())


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
