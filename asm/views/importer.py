"""`vasm import`: kernels as take-home users have them.

- a kernel image, a bare JSON bundle list, or an object with `instrs` /
  `program` and an optional `scratch_map` (what `json.dump(kb.instrs)` makes);
- a Python file defining `KernelBuilder` (the take-home's perf_takehome.py or
  a user's copy): it is run with the given parameters and its `instrs` and
  `scratch_debug` are captured. Running it executes the user's own code, as
  the take-home's harness does.
"""

from __future__ import annotations

import os
import runpy
import sys

from ..errors import KernelError, Location, ToolchainError
from ..kernel import Kernel, load_kernel

DEFAULT_PARAMS = (10, 2047, 256, 16)  # forest height, n_nodes, batch size, rounds


def import_kernel(path: str | os.PathLike, *, params: tuple[int, int, int, int] = DEFAULT_PARAMS,
                  files_read: list[str] | None = None) -> Kernel:
    """The kernel a file holds or builds. `files_read`, when given, gets every
    file read: the file itself, and the modules a builder imported."""
    name = os.fspath(path)
    if files_read is not None:
        files_read.append(name)
    if name.endswith(".py"):
        return _from_builder(name, params, files_read)
    return load_kernel(name)


def _from_builder(path: str, params: tuple[int, int, int, int],
                  files_read: list[str] | None) -> Kernel:
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)  # the builder imports its sibling problem.py
    before = set(sys.modules)
    # Reading a builder leaves nothing in its folder: no __pycache__ of the
    # siblings it imports (a user's Python writes bytecode by default).
    wrote_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        namespace = runpy.run_path(path, run_name="vasm_import")
        builder_class = namespace.get("KernelBuilder")
        if builder_class is None:
            raise ToolchainError("the file defines no KernelBuilder", location=Location(path))
        kb = builder_class()
        kb.build_kernel(*params)
    except ToolchainError:
        raise
    except Exception as e:  # the user's code failed; report it, not a traceback of ours
        raise ToolchainError(f"running KernelBuilder.build_kernel{params} failed: "
                             f"{type(e).__name__}: {e}", location=Location(path)) from None
    finally:
        sys.dont_write_bytecode = wrote_bytecode
        sys.path.remove(folder)
        if files_read is not None:  # named as the builder is (its siblings beside it)
            for m in set(sys.modules) - before:
                f = getattr(sys.modules[m], "__file__", None)
                if isinstance(f, str):
                    inside = os.path.dirname(f) == folder
                    files_read.append(os.path.join(os.path.dirname(path), os.path.basename(f))
                                      if inside else f)
    instrs = getattr(kb, "instrs", None)
    if not isinstance(instrs, list):
        raise ToolchainError("KernelBuilder has no 'instrs' list after build_kernel",
                             location=Location(path))
    scratch = getattr(kb, "scratch_debug", {}) or {}
    try:
        return Kernel(list(instrs), scratch={a: (n, ln) for a, (n, ln) in scratch.items()})
    except KernelError as e:
        e.location = Location(path)
        raise
