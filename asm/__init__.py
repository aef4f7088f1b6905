"""The language side of the toolchain: ISA table, kernel images, assembler.

`asm.assemble`, `asm.assemble_full`, `asm.disassemble` and `asm.format_source`
load the assembler (and Lark) on first use, so tools that only read kernel
images (the emulator) do not pay for it.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import AssemblyError, ImageError, KernelError, Location, ToolchainError
from .kernel import Kernel, dumps_kernel, load_kernel, loads_kernel, save_kernel

_LAZY = {
    "assemble": "asm.stages.assembler",
    "assemble_full": "asm.stages.assembler",
    "assemble_module": "asm.stages.assembler",
    "link": "asm.linking.link",
    "check": "asm.sched.check",
    "disassemble": "asm.views.disasm",
    "format_source": "asm.views.fmt",
    "schedule": "asm.sched.schedule",
}

__all__ = [
    "AssemblyError",
    "ImageError",
    "Kernel",
    "KernelError",
    "Location",
    "ToolchainError",
    "assemble",
    "assemble_full",
    "assemble_module",
    "check",
    "disassemble",
    "dumps_kernel",
    "format_source",
    "link",
    "load_kernel",
    "loads_kernel",
    "save_kernel",
    "schedule",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'asm' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
