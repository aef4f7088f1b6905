"""The take-home problem: memory images, the reference kernel, the output check.

Facts from the take-home (docs/isa.md): the image layout, the order of the
random draws (tree values, then input values, each `randint(0, 2**30 - 1)`),
the hash and the traversal. With seed 123 at height 10, batch 256, 16 rounds
this is the exact image of the take-home's `test_kernel_cycles`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from asm import isa
from asm.errors import ImageError

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
_M = 0xFFFFFFFF
_OPS = {
    "+": lambda x, y: (x + y) & _M,
    "^": lambda x, y: x ^ y,
    "<<": lambda x, y: (x << y) & _M,
    ">>": lambda x, y: x >> y,
}


@dataclass(frozen=True)
class Params:
    height: int = 10
    batch_size: int = 256
    rounds: int = 16

    @property
    def n_nodes(self) -> int:
        return 2 ** (self.height + 1) - 1


@dataclass(frozen=True)
class Layout:
    """The header of a take-home image."""

    rounds: int
    n_nodes: int
    batch_size: int
    height: int
    forest_p: int
    indices_p: int
    values_p: int

    @classmethod
    def of(cls, mem: list[int]) -> Layout:
        if len(mem) < HEADER:
            raise ImageError(f"a take-home image starts with a {HEADER}-word header; "
                             f"this one has {len(mem)} words")
        lay = cls(*mem[:HEADER])
        regions = {
            "tree": (lay.forest_p, lay.n_nodes),
            "indices": (lay.indices_p, lay.batch_size),
            "values": (lay.values_p, lay.batch_size),
        }
        for name, (start, size) in regions.items():
            if start < HEADER or start + size > len(mem):
                raise ImageError(f"not a take-home image: the {name} region "
                                 f"{start}..{start + size - 1} is outside the image "
                                 f"of {len(mem)} words")
        return lay


def make_image(params: Params = Params(), seed: int | None = 123) -> list[int]:
    """The memory image the take-home builds after `random.seed(seed)`."""
    rng = random.Random(seed)
    n, b = params.n_nodes, params.batch_size
    tree = [rng.randint(0, 2**30 - 1) for _ in range(n)]
    values = [rng.randint(0, 2**30 - 1) for _ in range(b)]
    indices_p = HEADER + n
    values_p = indices_p + b
    header = [params.rounds, n, b, params.height, HEADER, indices_p, values_p]
    return header + tree + [0] * b + values


def myhash(a: int, trace: dict | None = None, key: tuple = ()) -> int:
    for stage, (op1, c, op2, op3, k) in enumerate(HASH_STAGES):
        a = _OPS[op2](_OPS[op1](a, c), _OPS[op3](a, k))
        if trace is not None:
            trace[(*key, "hash_stage", stage)] = a
    return a


def reference_kernel(mem: list[int], trace: dict[Any, int] | None = None) -> Iterator[list[int]]:
    """The reference kernel on a copy of `mem`, yielding the memory at each pause point.

    It yields twice, before the rounds and after them, like the take-home's
    `reference_kernel2`; a kernel with a `pause` at each of those points can be
    checked at both. `trace`, when given, is filled with the value trace as it
    goes (the keys debug compares use).
    """
    mem = list(mem)
    lay = Layout.of(mem)
    t = trace if trace is not None else {}
    yield mem
    for r in range(lay.rounds):
        for i in range(lay.batch_size):
            idx = mem[lay.indices_p + i]
            t[(r, i, "idx")] = idx
            val = mem[lay.values_p + i]
            t[(r, i, "val")] = val
            if not 0 <= lay.forest_p + idx < len(mem):
                raise ImageError(f"round {r}, input {i}: index {idx} is outside the tree")
            node = mem[lay.forest_p + idx]
            t[(r, i, "node_val")] = node
            val = myhash(val ^ node, t, (r, i))
            t[(r, i, "hashed_val")] = val
            idx = 2 * idx + (1 if val % 2 == 0 else 2)
            t[(r, i, "next_idx")] = idx
            idx = 0 if idx >= lay.n_nodes else idx
            t[(r, i, "wrapped_idx")] = idx
            mem[lay.values_p + i] = val
            mem[lay.indices_p + i] = idx
    yield mem


def expected_output(mem: list[int], trace: dict | None = None) -> list[int]:
    """The final memory the reference kernel leaves."""
    *_, final = reference_kernel(mem, trace)
    return final


@dataclass(frozen=True)
class Mismatch:
    index: int  # input index within the values region
    expected: int
    actual: int

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
