"""The language side of the toolchain: ISA table, kernel images, assembler.

`asm.assemble`, `asm.assemble_full`, `asm.disassemble` and `asm.format_source`
load the assembler (and Lark) on first use, so tools that only read kernel
images (the emulator) do not pay for it. `asm.schedule` takes a Kernel, an
assembly or `.vasm` source; the scheduler itself (asm/sched/) only ever sees
Kernels. Every name here is imported on first use, so that a tool needing
one light module (the quick `vemu run` reads asm/imagefields.py) pays for
no other.
"""

from __future__ import annotations

_LAZY = {
    "AssemblyError": "asm.errors",
    "ImageError": "asm.errors",
    "KernelError": "asm.errors",
    "Location": "asm.errors",
    "ToolchainError": "asm.errors",
    "Hints": "asm.kernel",
    "Kernel": "asm.kernel",
    "dumps_kernel": "asm.kernel",
    "load_kernel": "asm.kernel",
    "loads_kernel": "asm.kernel",
    "save_kernel": "asm.kernel",
    "assemble": "asm.stages.assembler",
    "assemble_full": "asm.stages.assembler",
    "assemble_module": "asm.stages.assembler",
    "link": "asm.linking.link",
    "lint": "asm.views.lint",
    "disassemble": "asm.views.disasm",
    "format_source": "asm.views.fmt",
}

__all__ = [
    "AssemblyError",
    "Hints",
    "ImageError",
    "Kernel",
    "KernelError",
    "Location",
    "ToolchainError",
    "assemble",
    "assemble_full",
    "assemble_module",
    "disassemble",
    "dumps_kernel",
    "format_source",
    "link",
    "lint",
    "load_kernel",
    "loads_kernel",
    "save_kernel",
    "schedule",
]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'asm' has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(module), name)


def schedule(source: object, **options: object) -> object:
    """Schedule a Kernel, an `asm.assemble_full` result, or `.vasm` source (a
    path or text, assembled first); `options` as asm.sched.schedule.schedule_kernel.
    Returns its Schedule. Raises AssemblyError when the source does not assemble."""
    from .errors import AssemblyError
    from .kernel import Kernel
    from .sched.schedule import schedule_kernel
    if not isinstance(source, Kernel):
        if not hasattr(source, "kernel"):
            from .stages.assembler import assemble_full
            source = assemble_full(source)
        if source.kernel is None:
            raise AssemblyError(source.diagnostics)
        source = source.kernel
    return schedule_kernel(source, **options)
