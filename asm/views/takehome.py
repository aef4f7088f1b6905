"""The bridge to the take-home's own harness: a kernel built here as the
bundle list `KernelBuilder.instrs` holds (docs/takehome.md)."""

from __future__ import annotations

import os

from ..kernel import load_kernel


def load_instrs(path: str | os.PathLike) -> list[dict[str, list[tuple]]]:
    """The program of a kernel image (or any kernel file `vemu` reads) as the
    take-home's `Machine` expects it: a list of bundles, engine -> list of
    slot tuples."""
    kernel = load_kernel(path)
    return [{engine: [tuple(slot) for slot in slots] for engine, slots in bundle.items()}
            for bundle in kernel.program]


def load_scratch_map(path: str | os.PathLike) -> dict[int, tuple[str, int]]:
    """The kernel's scratch map, as `KernelBuilder.scratch_debug` holds it."""
    return dict(load_kernel(path).scratch)
