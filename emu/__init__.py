"""Execution: a cycle-exact emulator of the take-home machine, and the take-home problem.

Names are imported on first use, so that `python tests/regenerate.py` can write
the engines' generated code (emu/codegen.py) without importing the engines
that use it. (Nor is `typing` imported: every `vemu run` would pay for it,
emu/launch.py.)
"""

from __future__ import annotations

_LAZY = {
    "ENGINES": "emu.machine", "Machine": "emu.machine", "RunResult": "emu.machine",
    "as_kernel": "emu.machine", "check_image": "emu.machine", "run": "emu.machine",
    "EmuError": "emu.state", "Status": "emu.state",
}


def run_batch(program, mems, *, max_cycles=None, progress=None, compiled=True) -> list:
    """Run one program over many memory images at once (emu/batch.py; NumPy is
    loaded on first use)."""
    from .batch import run_batch as impl
    return impl(program, mems, max_cycles=max_cycles, progress=progress, compiled=compiled)


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'emu' has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(module), name)


__all__ = ["ENGINES", "EmuError", "Machine", "RunResult", "Status", "as_kernel", "check_image",
           "run", "run_batch"]
