"""The take-home problem: memory images, the reference kernel, the output check.

Facts from the take-home (docs/isa.md): the image layout, the order of the
random draws (tree values, then input values, each `randint(0, 2**30 - 1)`),
the hash and the traversal. With seed 123 at height 10, batch 256, 16 rounds
this is the exact image of the take-home's `test_kernel_cycles`.

The quick `vemu run` (emu/launch.py) uses this module, so it imports nothing
at its top that a run on the compiled core does not need (no dataclasses, no
ISA table): what fails imports its error where it fails.
"""

from __future__ import annotations

import random
from collections import namedtuple
from collections.abc import Callable, Iterator

HEADER = 7
# (op1, constant, op2, op3, shift) per stage: a = (a op1 C) op2 (a op3 K).
HASH_STAGES: tuple[tuple[str, int, str, str, int], ...] = (
    ("+", 0x7ED55D16, "+", "<<", 12),
    ("^", 0xC761C23C, "^", ">>", 19),
    ("+", 0x165667B1, "+", "<<", 5),
    ("+", 0xD3A2646C, "^", "<<", 9),
    ("+", 0xFD7046C5, "+", "<<", 3),
    ("^", 0xB55A4F09, "^", ">>", 16),
)
# Each operator of the hash as an expression of x and y; those that can
# carry past 32 bits are masked to a word (`_masked`).
_FORMS = {"+": "({x} + {y})", "^": "({x} ^ {y})", "<<": "({x} << {y})", ">>": "({x} >> {y})"}
_CARRIES = {"+", "<<"}


def _masked(op: str, x: str, y: str) -> str:
    text = _FORMS[op].format(x=x, y=y)
    return f"({text} & 0xFFFFFFFF)" if op in _CARRIES else text


def _stage(op1: str, c: int, op2: str, op3: str, k: int) -> str:
    """One stage as an expression of `a`, masked once at its end: +, << and ^
    commute with taking the low 32 bits (a >> of a sum would not: its
    operands are masked first)."""
    def inner(op: str, x: str, y: object) -> str:
        return _masked(op, x, str(y)) if op2 == ">>" else _FORMS[op].format(x=x, y=y)
    return f"{_FORMS[op2].format(x=inner(op1, 'a', hex(c)), y=inner(op3, 'a', k))} & 0xFFFFFFFF"


def _compiled(source: str, name: str) -> Callable:
    namespace: dict[str, object] = {}
    exec(source, namespace)  # noqa: S102 (text made here from the tables above)
    return namespace[name]  # type: ignore[return-value]


_OPS = {op: _compiled(f"def f(x, y):\n    return {_masked(op, 'x', 'y')}\n", "f")
        for op in _FORMS}
# The hash as one expression per stage: every checked run computes it
# rounds x batch times (4,096 for the take-home's image); a loop of calls
# through _OPS takes several times as long.
_HASH = _compiled("def hashed(a):\n"
                  + "".join(f"    a = {_stage(*stage)}\n" for stage in HASH_STAGES)
                  + "    return a\n", "hashed")


def _image_error(message: str) -> Exception:
    from asm.errors import ImageError  # (only when an image is wrong: see the docstring)
    return ImageError(message)


class Params(namedtuple("Params", "height batch_size rounds", defaults=(10, 256, 16))):
    """The shape of a take-home image."""

    __slots__ = ()

    @property
    def n_nodes(self) -> int:
        return 2 ** (self.height + 1) - 1


class Layout(namedtuple("Layout", "rounds n_nodes batch_size height forest_p indices_p values_p")):
    """The header of a take-home image."""

    __slots__ = ()

    @classmethod
    def of(cls, mem: list[int]) -> Layout:
        if len(mem) < HEADER:
            raise _image_error(f"a take-home image starts with a {HEADER}-word header; "
                               f"this one has {len(mem)} words")
        lay = cls(*mem[:HEADER])
        regions = {
            "tree": (lay.forest_p, lay.n_nodes),
            "indices": (lay.indices_p, lay.batch_size),
            "values": (lay.values_p, lay.batch_size),
        }
        for name, (start, size) in regions.items():
            if start < HEADER or start + size > len(mem):
                raise _image_error(f"not a take-home image: the {name} region "
                                   f"{start}..{start + size - 1} is outside the image "
                                   f"of {len(mem)} words")
        return lay


# The seed of the take-home's test_kernel_cycles: the image `vemu run` uses
# when not told otherwise.
TAKEHOME_SEED = 123


def make_image(params: Params = Params(), seed: int | None = TAKEHOME_SEED) -> list[int]:
    """The memory image the take-home builds after `random.seed(seed)`."""
    rng = random.Random(seed)
    n, b = params.n_nodes, params.batch_size
    tree = [rng.randint(0, 2**30 - 1) for _ in range(n)]
    values = [rng.randint(0, 2**30 - 1) for _ in range(b)]
    indices_p = HEADER + n
    values_p = indices_p + b
    header = [params.rounds, n, b, params.height, HEADER, indices_p, values_p]
    return header + tree + [0] * b + values


def default_image_module() -> str:
    """emu/generated_image.py's text: the take-home's image with its defaults
    and the values the reference kernel leaves in it, so that a quick
    `vemu run --check` (emu/launch.py) neither imports `random` nor runs the
    reference kernel (a fifth of its time). tests/regenerate.py writes it;
    tests/test_generated.py checks it is current."""
    image = make_image(Params())
    lay = Layout.of(image)
    values_p, batch = lay.values_p, lay.batch_size
    expected = expected_output(image)[values_p:values_p + batch]
    assert image[lay.indices_p:values_p] == [0] * batch  # (written as such: indices start at 0)

    def listed(words: list[int]) -> str:
        rows = (", ".join(map(str, words[i:i + 8])) for i in range(0, len(words), 8))
        return "[\n" + "".join(f"    {row},\n" for row in rows) + "]"
    return (f'"""Generated by tests/regenerate.py from emu/problem.py: do not edit.\n\n'
            f"make_image(Params()) ({tuple(Params())}, seed {TAKEHOME_SEED}) and the\n"
            f'values the reference kernel leaves in it, from VALUES_P on."""\n\n'
            f"IMAGE = {listed(image[:lay.indices_p])} + [0] * {batch} + "
            f"{listed(image[values_p:])}\n\nVALUES_P = {values_p}\n\n"
            f"VALUES = {listed(expected)}\n")


def myhash(a: int, trace: dict | None = None, key: tuple = ()) -> int:
    """The take-home's hash of a word; with `trace`, each stage's value is
    recorded under (*key, "hash_stage", stage)."""
    if trace is None:
        return _HASH(a)
    for stage, (op1, c, op2, op3, k) in enumerate(HASH_STAGES):
        a = _OPS[op2](_OPS[op1](a, c), _OPS[op3](a, k))
        if trace is not None:
            trace[(*key, "hash_stage", stage)] = a
    return a


def reference_kernel(mem: list[int], trace: dict | None = None) -> Iterator[list[int]]:
    """The reference kernel on a copy of `mem`, yielding the memory at each pause point.

    It yields twice, before the rounds and after them, like the take-home's
    `reference_kernel2`; a kernel with a `pause` at each of those points can be
    checked at both. `trace`, when given, is filled with the value trace as it
    goes (the keys debug compares use).
    """
    mem = list(mem)
    rounds, n_nodes, batch_size, _, forest_p, indices_p, values_p = Layout.of(mem)
    size = len(mem)
    yield mem
    indices = mem[indices_p:indices_p + batch_size]
    values = mem[values_p:values_p + batch_size]
    for r in range(rounds):
        for i in range(batch_size):
            idx = indices[i]
            if not 0 <= forest_p + idx < size:
                if trace is not None:
                    trace[(r, i, "idx")] = idx
                    trace[(r, i, "val")] = values[i]
                raise _image_error(f"round {r}, input {i}: index {idx} is outside the tree")
            if trace is None:
                val = values[i] = _HASH(values[i] ^ mem[forest_p + idx])
                new = 2 * idx + (1 if val % 2 == 0 else 2)
                indices[i] = 0 if new >= n_nodes else new
                continue
            node = mem[forest_p + idx]
            trace[(r, i, "idx")] = idx
            trace[(r, i, "val")] = values[i]
            trace[(r, i, "node_val")] = node
            val = values[i] = myhash(values[i] ^ node, trace, (r, i))
            new = 2 * idx + (1 if val % 2 == 0 else 2)
            indices[i] = 0 if new >= n_nodes else new
            trace[(r, i, "hashed_val")] = val
            trace[(r, i, "next_idx")] = new
            trace[(r, i, "wrapped_idx")] = indices[i]
    mem[indices_p:indices_p + batch_size] = indices
    mem[values_p:values_p + batch_size] = values
    yield mem


def expected_output(mem: list[int], trace: dict | None = None) -> list[int]:
    """The final memory the reference kernel leaves."""
    *_, final = reference_kernel(mem, trace)
    return final


class Mismatch(namedtuple("Mismatch", "index expected actual")):
    """The first wrong value: its input index within the values region, the
    reference kernel's value and the kernel's."""

    __slots__ = ()

    def __str__(self) -> str:
        return f"input {self.index}: expected {self.expected}, got {self.actual}"


def compare_values(actual: list[int], expected: list[int]) -> Mismatch | None:
    """The first input whose value differs (the submission check compares only values)."""
    lay = Layout.of(expected)
    p, b = lay.values_p, lay.batch_size
    if len(actual) < p + b:
        return Mismatch(0, expected[p], -1)
    for i in range(b):
        if actual[p + i] != expected[p + i]:
            return Mismatch(i, expected[p + i], actual[p + i])
    return None


def reads_header(kernel) -> bool:
    """Whether a kernel looks like a take-home kernel: some load reads a
    header word (0..6) at a constant address (`const a, 5` then `load x, a`,
    the pattern every take-home kernel begins with). Program order, no
    control flow: a quick look, not an analysis."""
    from asm import isa
    known: dict[int, int] = {}
    for bundle in kernel.program:
        written: dict[int, int | None] = {}
        for engine, slots in bundle.items():
            for slot in slots:
                op = isa.BY_MACHINE[(engine, slot[0])]
                if op.memory == "read" and known.get(op.address_word(slot), HEADER) < HEADER:
                    return True
                for w in op.writes(slot):
                    at = op.immediate_index
                    written[w] = None if at is None else slot[at] & isa.WORD_MASK
        for w, v in written.items():  # a bundle's reads see the words from before it
            if v is None:
                known.pop(w, None)
            else:
                known[w] = v
    return False
