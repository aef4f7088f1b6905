"""The take-home's starting kernel, as a bundle list.

The take-home ships a fully scalar kernel, one op per bundle, that takes
147,734 cycles at height 10, batch 256, 16 rounds. This builds the same
bundle list (same ops, same scratch addresses, same order) so that our tools
can be checked against that known figure. It is written here from the facts
of that kernel; `programs/takehome/baseline.vasm` is its `.vasm` form.
"""

from __future__ import annotations

from .problem import HASH_STAGES

HEADER_NAMES = (
    "rounds", "n_nodes", "batch_size", "forest_height",
    "forest_values_p", "inp_indices_p", "inp_values_p",
)


class _Builder:
    def __init__(self) -> None:
        self.prologue: list[dict] = []
        self.scratch: dict[str, int] = {}
        self.scratch_map: dict[int, tuple[str, int]] = {}
        self.next_free = 0
        self.consts: dict[int, int] = {}

    def alloc(self, name: str | None = None) -> int:
        addr = self.next_free
        self.next_free += 1
        if name is not None:
            self.scratch[name] = addr
            self.scratch_map[addr] = (name, 1)
        return addr

    def const(self, value: int) -> int:
        """A scratch word holding `value`; its `const` op goes into the prologue."""
        if value not in self.consts:
            addr = self.alloc()
            self.prologue.append({"load": [("const", addr, value)]})
            self.consts[value] = addr
        return self.consts[value]


def build_starting_kernel(
    height: int = 10, n_nodes: int = 2047, batch_size: int = 256, rounds: int = 16
) -> tuple[list[dict], dict[int, tuple[str, int]]]:
    """(bundle list, scratch map) of the starting kernel for these parameters."""
    del height  # the starting kernel does not use it
    k = _Builder()
    tmp1, tmp2, tmp3 = k.alloc("tmp1"), k.alloc("tmp2"), k.alloc("tmp3")
    for name in HEADER_NAMES:
        k.alloc(name)
    for i, name in enumerate(HEADER_NAMES):
        k.prologue.append({"load": [("const", tmp1, i)]})
        k.prologue.append({"load": [("load", k.scratch[name], tmp1)]})
    zero, one, two = k.const(0), k.const(1), k.const(2)
    k.prologue.append({"flow": [("pause",)]})
    k.prologue.append({"debug": [("comment", "Starting loop")]})

    idx, val = k.alloc("tmp_idx"), k.alloc("tmp_val")
    node, addr = k.alloc("tmp_node_val"), k.alloc("tmp_addr")
    indices_p, values_p = k.scratch["inp_indices_p"], k.scratch["inp_values_p"]
    forest_p, n_nodes_w = k.scratch["forest_values_p"], k.scratch["n_nodes"]

    body: list[tuple[str, tuple]] = []
    emit = body.append
    for r in range(rounds):
        for i in range(batch_size):
            ic = k.const(i)
            emit(("alu", ("+", addr, indices_p, ic)))
            emit(("load", ("load", idx, addr)))
            emit(("debug", ("compare", idx, (r, i, "idx"))))
            emit(("alu", ("+", addr, values_p, ic)))
            emit(("load", ("load", val, addr)))
            emit(("debug", ("compare", val, (r, i, "val"))))
            emit(("alu", ("+", addr, forest_p, idx)))
            emit(("load", ("load", node, addr)))
            emit(("debug", ("compare", node, (r, i, "node_val"))))
            emit(("alu", ("^", val, val, node)))
            for stage, (op1, c, op2, op3, shift) in enumerate(HASH_STAGES):
                emit(("alu", (op1, tmp1, val, k.const(c))))
                emit(("alu", (op3, tmp2, val, k.const(shift))))
                emit(("alu", (op2, val, tmp1, tmp2)))
                emit(("debug", ("compare", val, (r, i, "hash_stage", stage))))
            emit(("debug", ("compare", val, (r, i, "hashed_val"))))
            emit(("alu", ("%", tmp1, val, two)))
            emit(("alu", ("==", tmp1, tmp1, zero)))
            emit(("flow", ("select", tmp3, tmp1, one, two)))
            emit(("alu", ("*", idx, idx, two)))
            emit(("alu", ("+", idx, idx, tmp3)))
            emit(("debug", ("compare", idx, (r, i, "next_idx"))))
            emit(("alu", ("<", tmp1, idx, n_nodes_w)))
            emit(("flow", ("select", idx, tmp1, idx, zero)))
            emit(("debug", ("compare", idx, (r, i, "wrapped_idx"))))
            emit(("alu", ("+", addr, indices_p, ic)))
            emit(("store", ("store", addr, idx)))
            emit(("alu", ("+", addr, values_p, ic)))
            emit(("store", ("store", addr, val)))
    program = k.prologue + [{engine: [slot]} for engine, slot in body]
    program.append({"flow": [("pause",)]})
    return program, k.scratch_map
