"""THE ISA table: every op of the machine once, as frozen data.

Everything else is a view of this table: the assembler's operand checks, the
disassembler, the linter's slot limits, the scheduler's read/write sets, the
emulators' dispatch and the highlighters' keyword lists. Adding an op means
adding one row here. The table checks itself on import.

The machine is the one of Anthropic's performance take-home (`problem.py`,
class `Machine`); see the project's docs/isa.md.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

VLEN = 8
SCRATCH_SIZE = 1536
N_CORES = 1
WORD_BITS = 32
WORD_MASK = (1 << WORD_BITS) - 1

# Engine order here is also the canonical engine order for printing bundles.
SLOT_LIMITS: dict[str, int] = {
    "alu": 12,
    "valu": 6,
    "load": 2,
    "store": 2,
    "flow": 1,
    "debug": 64,
}
ENGINES: tuple[str, ...] = tuple(SLOT_LIMITS)
# A bundle whose only engines are these costs no cycle.
FREE_ENGINES = frozenset({"debug"})
# The reference simulator does not enforce these limits (our linter, `vasm check`, warns).
UNENFORCED_LIMITS = frozenset({"debug"})


class Kind(enum.Enum):
    """What an operand position holds."""

    DST = "scratch word written"
    SRC = "scratch word read"
    VDST = "vector written"
    VSRC = "vector read"
    IMM = "immediate"
    TARGET = "jump target"  # absolute bundle index
    OFFSET = "relative jump"  # bundles from the next bundle
    KEY = "debug key"
    KEYS = "debug keys"  # VLEN keys, one per lane
    TEXT = "text"

    @property
    def is_scratch(self) -> bool:
        return self in _SCRATCH_KINDS

    @property
    def is_write(self) -> bool:
        return self in (Kind.DST, Kind.VDST)

    @property
    def width(self) -> int:
        """Scratch words the operand covers (0 for non-scratch operands)."""
        if self in (Kind.VDST, Kind.VSRC):
            return VLEN
        return 1 if self in (Kind.DST, Kind.SRC) else 0

    @property
    def is_integer(self) -> bool:
        return self in _INTEGER_KINDS


_SCRATCH_KINDS = frozenset({Kind.DST, Kind.SRC, Kind.VDST, Kind.VSRC})
_INTEGER_KINDS = _SCRATCH_KINDS | {Kind.IMM, Kind.TARGET, Kind.OFFSET}


class Control(enum.Enum):
    """How an op changes control flow."""

    JUMP = "jump"
    COND_JUMP = "cond_jump"
    COND_JUMP_REL = "cond_jump_rel"
    JUMP_INDIRECT = "jump_indirect"
    HALT = "halt"
    PAUSE = "pause"


@dataclass(frozen=True)
class Operand:
    name: str
    kind: Kind


@dataclass(frozen=True)
class Meaning:
    """What an op does, as expressions. Every engine is derived from these:
    the reference engine evaluates them as they stand, the fast and batched
    engines generate code from them (emu/codegen.py).

    In an expression, an operand's name stands for its value: the word a
    scratch operand holds (for a vector operand in a lane-wise op, the word
    of the lane), an immediate's number, a debug key as it is. `i` is the
    lane (0 when `lanes` is 1), `pc` the op's own bundle, `mem[e]` the memory
    word at e (outside the image is a fault), `int` makes a comparison 1 or 0.
    Words are unsigned; a result is already reduced mod 2**32.
    """

    value: str | None = None  # the word the first operand (a destination) gets
    address: str | None = None  # where a store writes ...
    store: str | None = None  # ... this word
    trace: str | None = None  # appended to the trace buffer
    jump: str | None = None  # the next bundle ...
    when: str | None = None  # ... when this is not 0 (always, when None)
    stop: str | None = None  # "halt", or "pause" (which stops only when pausing is on)
    compare: tuple[str, str] | None = None  # debug: (value, key): value == value_trace[key]
    lanes: int = 1  # VLEN for a lane-wise op: the expressions hold for each lane i
    array: str | None = None  # `value` over NumPy uint32 arrays, where it differs
    # Derived from the expressions when first asked (parsing them at import
    # would cost every process its start): see divisor and uses_pc.

    @cached_property
    def divisor(self) -> str | None:
        """The operand `value` divides by (`//`, `%`; a divisor of 0 is a
        fault), if any."""
        import ast
        divisors = {n.right.id for n in ast.walk(ast.parse(self.value or "0", mode="eval"))
                    if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.FloorDiv, ast.Mod))
                    and isinstance(n.right, ast.Name)}
        assert len(divisors) <= 1, f"{self.value}: divides by several operands"
        return divisors.pop() if divisors else None

    @cached_property
    def uses_pc(self) -> bool:
        """Whether some expression reads the op's own pc."""
        import ast
        return any(isinstance(n, ast.Name) and n.id == "pc"
                   for e in self.expressions() for n in ast.walk(ast.parse(e, mode="eval")))

    @property
    def divides(self) -> bool:
        """`value` divides by an operand: a divisor of 0 is a fault."""
        return self.divisor is not None

    def expressions(self) -> list[str]:
        out = [self.value, self.address, self.store, self.trace, self.jump, self.when,
               *(self.compare or ())]
        return [e for e in out if e is not None]


WORDS_KEPT = 1 << 16  # slots per op whose scratch words are kept (Op.scratch_words)


@dataclass(frozen=True)
class Op:
    engine: str
    name: str  # the machine's op name, as in kernel images
    mnemonic: str  # the .vasm mnemonic
    operands: tuple[Operand, ...]
    summary: str
    aliases: tuple[str, ...] = ()
    memory: str | None = None  # "read" or "write"
    mem_addr: str | None = None  # operand holding the memory address
    offset: str | None = None  # operand added to every scratch operand
    control: Control | None = None
    meaning: Meaning = field(default_factory=Meaning)
    # A lane-wise valu op the scheduler may run on the alu, lane by lane: the
    # alu ops of each lane, one step (bundle) after another, as (alu op name,
    # operand, ...); an operand is one of this op's (a vector one at the lane)
    # or "t", a word that carries a lane's value from one step to the next.
    lanes_as: tuple[tuple[str, ...], ...] | None = None
    # (operand index, width, is_write) for each scratch operand, derived.
    scratch_operands: tuple[tuple[int, int, bool], ...] = field(
        init=False, repr=False, compare=False
    )
    offset_index: int | None = field(init=False, repr=False, compare=False)
    mem_addr_index: int | None = field(init=False, repr=False, compare=False)
    # slot -> (reads, writes), for slots given as tuples (scratch_words)
    _words: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        scratch = tuple(
            (i + 1, o.kind.width, o.kind.is_write)
            for i, o in enumerate(self.operands)
            if o.kind.is_scratch
        )
        object.__setattr__(self, "scratch_operands", scratch)
        index = None
        if self.offset is not None:
            index = 1 + [o.name for o in self.operands].index(self.offset)
        object.__setattr__(self, "offset_index", index)
        names = [o.name for o in self.operands]
        object.__setattr__(self, "mem_addr_index",
                           None if self.mem_addr is None else 1 + names.index(self.mem_addr))

    @property
    def arity(self) -> int:
        return len(self.operands)

    @cached_property  # (asked once per slot by the batched engine's compiler)
    def is_binary(self) -> bool:
        """The destination's value from two scratch operands (lane by lane for
        vectors): the arithmetic ops, which the batched engine runs several
        slots of at once."""
        kinds = [o.kind for o in self.operands]
        return (self.meaning.value is not None and len(kinds) == 3 and kinds[0].is_write
                and all(k.is_scratch and not k.is_write for k in kinds[1:]))

    @property
    def immediate_index(self) -> int | None:
        """The slot position of the immediate this op writes to its destination
        as it stands (a word: `const`), read off its meaning; else None."""
        import ast
        if self.meaning.value is None or self.meaning.lanes != 1:
            return None
        tree = ast.parse(self.meaning.value, mode="eval").body
        if isinstance(tree, ast.BinOp) and isinstance(tree.op, ast.BitAnd) and \
                isinstance(tree.right, ast.Constant) and tree.right.value == WORD_MASK:
            tree = tree.left
        names = [o.name for o in self.operands]
        if isinstance(tree, ast.Name) and tree.id in names and \
                self.operands[names.index(tree.id)].kind is Kind.IMM:
            return 1 + names.index(tree.id)
        return None

    def address_word(self, slot: Sequence) -> int:
        """The scratch word holding the memory address a slot `(name, operand,
        ...)` reads or writes (load_offset's offset included)."""
        off = slot[self.offset_index] if self.offset_index is not None else 0
        return slot[self.mem_addr_index] + off

    @property
    def mem_width(self) -> int:
        """Memory words one execution touches (0 if it does not touch memory)."""
        if self.memory is None:
            return 0
        return VLEN if any(o.kind in (Kind.VDST, Kind.VSRC) for o in self.operands) else 1

    @property
    def costs_cycle(self) -> bool:
        return self.engine not in FREE_ENGINES

    def scratch_words(self, slot: Sequence) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The scratch words a slot `(name, operand, ...)` reads and writes.
        Kernels repeat slots (fast.vasm's 22,323 ops have 4,722 distinct
        ones) and the scheduler's stages each ask this of every op, so the
        answer for a tuple slot is kept (up to WORDS_KEPT slots per op)."""
        keep = type(slot) is tuple  # (a list, from JSON, is no key)
        kept = self._words.get(slot) if keep else None
        if kept is not None:
            return kept
        off = slot[self.offset_index] if self.offset_index is not None else 0
        reads: list[int] = []
        writes: list[int] = []
        for index, width, is_write in self.scratch_operands:
            base = slot[index] + off
            (writes if is_write else reads).extend(range(base, base + width))
        words = (tuple(reads), tuple(writes))
        if keep:
            if len(self._words) >= WORDS_KEPT:  # (a long-lived process: the language server)
                self._words.clear()
            self._words[slot] = words
        return words

    def reads(self, slot: Sequence) -> tuple[int, ...]:
        return self.scratch_words(slot)[0]

    def writes(self, slot: Sequence) -> tuple[int, ...]:
        return self.scratch_words(slot)[1]


def _operands(spec: str) -> tuple[Operand, ...]:
    """Parse 'd:dst a:src' into operands."""
    return tuple(
        Operand(name, Kind[kind.upper()])
        for name, kind in (item.split(":") for item in spec.split())
    )


# Arithmetic shared by alu (one word) and valu (lane-wise):
# machine op, scalar mnemonic, expression over words a and b.
# The last item, when given, is the expression over NumPy uint32 arrays, whose
# sums, differences and products wrap mod 2**32 just like the machine's (shifts
# by 32 or more are undefined there, hence the masks).
_ARITH: tuple[tuple[str, ...], ...] = (
    ("+", "add", "(a + b) & 0xFFFFFFFF", "a + b"),
    ("-", "sub", "(a - b) & 0xFFFFFFFF", "a - b"),
    ("*", "mul", "(a * b) & 0xFFFFFFFF", "a * b"),
    ("//", "div", "a // b"),
    ("cdiv", "cdiv", "(a + b - 1) // b",
     "((a.astype(np.uint64) + b - 1) // b).astype(np.uint32)"),
    ("^", "xor", "a ^ b"),
    ("&", "and", "a & b"),
    ("|", "or", "a | b"),
    # (a << b) mod 2**32 is 0 once b >= 32; never build the huge integer.
    ("<<", "shl", "(a << b) & 0xFFFFFFFF if b < 32 else 0",
     "np.where(b < 32, a << (b & 31), np.uint32(0))"),
    (">>", "shr", "a >> b", "np.where(b < 32, a >> (b & 31), np.uint32(0))"),
    ("%", "mod", "a % b"),
    ("<", "lt", "int(a < b)", "(a < b).astype(np.uint32)"),
    ("==", "eq", "int(a == b)", "(a == b).astype(np.uint32)"),
)


def _arith_ops() -> list[Op]:
    ops = []
    for name, mnemonic, expr, *array in _ARITH:
        for engine, lanes, operands, summary in (
                ("alu", 1, "d:dst a:src b:src", f"d = a {name} b (mod 2**32)"),
                ("valu", VLEN, "d:vdst a:vsrc b:vsrc", f"lane-wise d = a {name} b (mod 2**32)")):
            meaning = Meaning(value=expr, lanes=lanes, array=array[0] if array else None)
            ops.append(Op(engine, name, mnemonic if engine == "alu" else "v" + mnemonic,
                          _operands(operands), summary, meaning=meaning,
                          lanes_as=((name, "d", "a", "b"),) if engine == "valu" else None))
    return ops


_MASK = "0xFFFFFFFF"


OPS: tuple[Op, ...] = (
    *_arith_ops(),
    Op("valu", "vbroadcast", "vbroadcast", _operands("d:vdst s:src"),
       "every lane of d = s", meaning=Meaning(value="s", lanes=VLEN),
       lanes_as=(("|", "d", "s", "s"),)),  # s | s is s
    Op("valu", "multiply_add", "vmuladd", _operands("d:vdst a:vsrc b:vsrc c:vsrc"),
       "lane-wise d = a * b + c (mod 2**32)", aliases=("multiply_add",),
       meaning=Meaning(value=f"(a * b + c) & {_MASK}", lanes=VLEN),
       lanes_as=(("*", "t", "a", "b"), ("+", "d", "t", "c"))),
    Op("load", "load", "load", _operands("d:dst addr:src"),
       "d = mem[addr]", memory="read", mem_addr="addr", meaning=Meaning(value="mem[addr]")),
    Op("load", "load_offset", "load_offset", _operands("d:dst addr:src imm:imm"),
       "scratch[d + imm] = mem[scratch[addr + imm]]",
       memory="read", mem_addr="addr", offset="imm", meaning=Meaning(value="mem[addr]")),
    Op("load", "vload", "vload", _operands("d:vdst addr:src"),
       "d[i] = mem[addr + i] for each lane", memory="read", mem_addr="addr",
       meaning=Meaning(value="mem[addr + i]", lanes=VLEN)),
    Op("load", "const", "const", _operands("d:dst imm:imm"), "d = imm (mod 2**32)",
       meaning=Meaning(value=f"imm & {_MASK}")),
    Op("store", "store", "store", _operands("addr:src s:src"),
       "mem[addr] = s", memory="write", mem_addr="addr",
       meaning=Meaning(address="addr", store="s")),
    Op("store", "vstore", "vstore", _operands("addr:src s:vsrc"),
       "mem[addr + i] = s[i] for each lane", memory="write", mem_addr="addr",
       meaning=Meaning(address="addr + i", store="s", lanes=VLEN)),
    Op("flow", "select", "select", _operands("d:dst cond:src a:src b:src"),
       "d = a if cond != 0 else b", meaning=Meaning(value="a if cond else b")),
    Op("flow", "vselect", "vselect", _operands("d:vdst cond:vsrc a:vsrc b:vsrc"),
       "lane-wise d = a if cond != 0 else b",
       meaning=Meaning(value="a if cond else b", lanes=VLEN)),
    Op("flow", "add_imm", "add_imm", _operands("d:dst a:src imm:imm"),
       "d = a + imm (mod 2**32)", meaning=Meaning(value=f"(a + imm) & {_MASK}")),
    Op("flow", "halt", "halt", (), "stop the core", control=Control.HALT,
       meaning=Meaning(stop="halt")),
    Op("flow", "pause", "pause", (),
       "stop until resumed (only when pausing is enabled)", control=Control.PAUSE,
       meaning=Meaning(stop="pause")),
    Op("flow", "trace_write", "trace_write", _operands("s:src"),
       "append s to the trace buffer", meaning=Meaning(trace="s")),
    Op("flow", "cond_jump", "cond_jump", _operands("cond:src target:target"),
       "if cond != 0: pc = target", control=Control.COND_JUMP,
       meaning=Meaning(jump="target", when="cond")),
    Op("flow", "cond_jump_rel", "cond_jump_rel", _operands("cond:src imm:offset"),
       "if cond != 0: pc += imm (from the next bundle)", control=Control.COND_JUMP_REL,
       meaning=Meaning(jump="pc + 1 + imm", when="cond")),
    Op("flow", "jump", "jump", _operands("target:target"), "pc = target",
       control=Control.JUMP, meaning=Meaning(jump="target")),
    Op("flow", "jump_indirect", "jump_indirect", _operands("a:src"), "pc = a",
       control=Control.JUMP_INDIRECT, meaning=Meaning(jump="a")),
    Op("flow", "coreid", "coreid", _operands("d:dst"), "d = core id (0)",
       meaning=Meaning(value="0")),
    Op("debug", "compare", "compare", _operands("s:src key:key"),
       "check s against the value trace (debug runs only)",
       meaning=Meaning(compare=("s", "key"))),
    Op("debug", "vcompare", "vcompare", _operands("s:vsrc keys:keys"),
       "check each lane of s against the value trace (debug runs only)",
       meaning=Meaning(compare=("s", "keys[i]"), lanes=VLEN)),
    Op("debug", "comment", "comment", _operands("text:text"), "no effect"),
)

BY_MACHINE: dict[tuple[str, str], Op] = {(op.engine, op.name): op for op in OPS}
BY_MNEMONIC: dict[str, Op] = {}
for _op in OPS:
    for _m in (_op.mnemonic, *_op.aliases):
        BY_MNEMONIC[_m] = _op


def lookup(engine: str, name: str) -> Op | None:
    """The op an engine's slot names, or None."""
    return BY_MACHINE.get((engine, name))


def mnemonics(engine: str | None = None) -> list[str]:
    """Every mnemonic (aliases included), optionally of one engine, in table order."""
    return [m for op in OPS if engine in (None, op.engine) for m in (op.mnemonic, *op.aliases)]


def self_check() -> None:
    """Validate the table (riscv-opcodes habit). tests/test_isa.py and every
    regeneration (tests/regenerate.py) run it; importing the table does not,
    since every process of every tool would pay for it at start."""
    seen: dict[str, Op] = {}
    for op in OPS:
        assert op.engine in SLOT_LIMITS, f"{op.name}: unknown engine {op.engine}"
        for m in (op.mnemonic, *op.aliases):
            assert m not in seen, f"mnemonic {m!r} used twice"
            seen[m] = op
        assert len(BY_MACHINE) == len(OPS), "two ops share (engine, machine name)"
        names = [o.name for o in op.operands]
        assert len(set(names)) == len(names), f"{op.name}: repeated operand name"
        if op.memory is not None:
            assert op.memory in ("read", "write"), op.name
            assert op.engine == ("load" if op.memory == "read" else "store"), op.name
            addr = next(o for o in op.operands if o.name == op.mem_addr)
            assert addr.kind is Kind.SRC, f"{op.name}: memory address must be a scratch word"
        if op.offset is not None:
            off = next(o for o in op.operands if o.name == op.offset)
            assert off.kind is Kind.IMM, f"{op.name}: offset must be an immediate"
        if op.control is not None:
            assert op.engine == "flow", f"{op.name}: control flow belongs to flow"
        vectors = [o.kind in (Kind.VDST, Kind.VSRC) for o in op.operands]
        # A vector operand makes an op lane-wise, and a lane-wise op has one.
        assert any(vectors) == (op.meaning.lanes == VLEN), f"{op.name}: lanes and vectors"
        if op.engine == "valu":
            assert vectors[0], f"{op.name}: a valu op's first operand is a vector"
        _check_meaning(op)
        assert op.meaning.divisor is None or op.meaning.divisor in names, op.name


def _check_meaning(op: Op) -> None:
    """Every op means something, in expressions over its own operands."""
    import ast
    m = op.meaning
    effects = [m.value, m.store, m.trace, m.jump, m.stop, m.compare]
    assert any(e is not None for e in effects) or op.name == "comment", f"{op.name}: no meaning"
    assert m.lanes in (1, VLEN), op.name
    assert (m.value is not None) == bool(op.operands and op.operands[0].kind.is_write), \
        f"{op.name}: a value goes to a first operand that is a destination, and back"
    assert (m.address is None) == (m.store is None), op.name
    assert (m.jump is not None) == (op.control not in (None, Control.HALT, Control.PAUSE)), \
        f"{op.name}: jumps are control flow"
    assert m.stop in (None, "halt", "pause"), op.name
    known = {o.name for o in op.operands} | {"i", "pc", "mem", "int"}
    for expr in m.expressions():
        tree = ast.parse(expr, mode="eval")
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert names <= known, f"{op.name}: {expr!r} names {names - known}"
        # (so that Meaning.divisor finds every division, and names its divisor)
        assert all(isinstance(n.right, ast.Name) for n in ast.walk(tree)
                   if isinstance(n, ast.BinOp) and isinstance(n.op, (ast.FloorDiv, ast.Mod))), \
            f"{op.name}: {expr!r} divides by something other than an operand"
