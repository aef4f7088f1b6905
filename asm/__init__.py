"""The language side of the toolchain: ISA table, kernel images, assembler."""

from .errors import ImageError, KernelError, Location, ToolchainError
from .kernel import Kernel, dumps_kernel, load_kernel, loads_kernel, save_kernel

__all__ = [
    "ImageError",
    "Kernel",
    "KernelError",
    "Location",
    "ToolchainError",
    "dumps_kernel",
    "load_kernel",
    "loads_kernel",
    "save_kernel",
]
