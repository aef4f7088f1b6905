"""Execution: a cycle-exact emulator of the take-home machine, and the take-home problem."""

from .machine import ENGINES, Machine, RunResult, as_kernel, check_image, run
from .state import EmuError, Status

__all__ = ["ENGINES", "EmuError", "Machine", "RunResult", "Status", "as_kernel", "check_image", "run"]
