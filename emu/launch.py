"""`vemu`'s entry point, and the quick run.

A whole `vemu run` on a take-home kernel is mostly the interpreter starting
and importing: the command line (click), the kernel loader and the engines
(dataclasses, the ISA table) cost several times the run on the compiled
core. So the plainest runs are done here with what they need and nothing
more:

    vemu run FILE --check [--mem IMAGE]
    vemu run FILE --mem IMAGE [--check]

FILE a kernel image (`.vk.json`), a JSON bundle list (the take-home's
`instrs`) or an object with `instrs`, as the kernel loader takes them. The
image's header and fields are checked by the loader's own functions
(asm/imagefields.py), the program's slots by the compiled core as it decodes
them, as the loader would; the take-home image and the reference kernel
come from emu/problem.py, which `vemu run` uses too (the default image and
the values it must end with, made from it ahead: emu/generated_image.py).

Everything else goes to the full command line (emu/cli.py): other options,
a source, anything the loader or the core would refuse, and every run that
does not simply succeed (a fault, the cycle limit, a wrong answer, a trace
word, any error reading the files), which the full command line then does
again from the start and reports in its own words. The quick run prints
only what the full one prints for a run that succeeds (tests/test_launch.py
holds them to that).
"""

from __future__ import annotations

import gc
import json
import os
import stat
import sys

from .compiled import core
from .limits import DEFAULT_MAX_CYCLES


def main() -> None:
    """`vemu`: a plain run here, anything else on the full command line."""
    args = sys.argv[1:]
    if args[:1] == ["run"] and core is not None:
        # The collector would walk the bundle list's objects again and again
        # as JSON makes them (a tenth of the run); a run this short needs none.
        gc.disable()
        try:
            done = quick_run(args[1:])
        except Exception:  # a slip of ours here: the full command line runs it instead
            done = False
        gc.enable()
        if done:
            # Ending here: tearing down the heap would free the half a million
            # objects of a kernel's JSON one by one, for nothing.
            try:
                sys.stdout.flush()
            except OSError:
                os._exit(1)
            os._exit(0)
    # NumPy's OpenBLAS would start a spinning thread per core as it loads
    # (see asm/cli.py, where `vasm` does the same); no command uses BLAS, and
    # a user's own setting wins.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from .cli import main as command_line
    command_line()


def quick_run(args: list[str]) -> bool:
    """Do `vemu run ARGS` here if it is plain and succeeds: whether it was done
    (its line printed); False, having printed nothing, for the full command line."""
    plan = _plain(args)
    if plan is None:
        return False
    kernel, mem_file, check = plan
    decoded = _decoded(_read_json(kernel))
    if decoded is None:
        return False
    if mem_file is None:  # the take-home's image, made and checked once, ahead
        from .generated_image import IMAGE, VALUES, VALUES_P
        mem = list(IMAGE)
    else:
        mem = _read_json(mem_file)
        if type(mem) is not list:
            return False
        start = list(mem)  # (the reference runs from it, for --check)
    out = core.run(decoded, [0] * core.SCRATCH_SIZE, mem, trace := [], 0, 0, False,
                   DEFAULT_MAX_CYCLES)
    # None: a memory word that is not a word; 0 finished, 1 halted; else a
    # fault or the limit. A trace word is printed by the full command line.
    if out is None or out[0] not in (0, 1) or trace:
        return False
    verdict = "not checked"
    if check:
        if mem_file is None:
            if mem[VALUES_P:VALUES_P + len(VALUES)] != VALUES:
                return False
        else:
            from .problem import compare_values, expected_output
            try:
                mismatch = compare_values(mem, expected_output(start))
            except Exception:  # not a take-home image (ImageError): the full command line says why
                return False
            if mismatch is not None:
                return False
        verdict = "correct"
    halted = ", halted" if out[0] == 1 else ""
    sys.stdout.write(f"{out[2]} cycles{halted}, {verdict}\n")
    return True


def _decoded(data: object) -> object | None:
    """The program of a kernel's JSON, decoded by the core, when the kernel
    loader (asm/kernel.py) would take the JSON: a bundle list, an object with
    `instrs`, or a kernel image whose header and fields (asm/imagefields.py)
    hold; None for anything else."""
    from asm.imagefields import image_fields, normalized_fields

    from .generated_table import MACHINE
    try:
        fields = image_fields(data, MACHINE)
        program = fields["program"]
        if type(program) is not list:
            return None
        decoded = core.decode(program)
        if decoded is not None:
            normalized_fields(fields, program, core.SCRATCH_SIZE)
        return decoded
    except Exception:  # the loader's KernelError: the full command line says it
        return None


def _plain(args: list[str]) -> tuple[str, str | None, bool] | None:
    """(kernel, memory image or None, --check) when `args` are only those, with
    a check or an image (without either, the full command line may have a note
    on the image to print); else None."""
    kernel = mem_file = None
    check = False
    rest = iter(args)
    for arg in rest:
        if arg == "--check":
            check = True
        elif arg == "--mem" or arg.startswith("--mem="):
            value = arg[len("--mem="):] if "=" in arg else next(rest, None)
            if mem_file is not None or value is None or value in ("", "-"):
                return None
            mem_file = value
        elif arg.startswith("-") or kernel is not None:
            return None
        else:
            kernel = arg
    if kernel is None or kernel.endswith(".vasm") or not (check or mem_file is not None):
        return None
    return kernel, mem_file, check


class _RepeatedKey(ValueError):
    """An object naming a key twice: the full command line says where."""


def _distinct_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _RepeatedKey
    return out


def _read_json(path: str) -> object:
    """The JSON a regular file holds, or None when it cannot be read as
    plainly as that (the full command line then reads it and says why)."""
    try:
        with open(path, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return None
            text = f.read().decode("utf-8")
        return json.loads(text, object_pairs_hook=_distinct_keys)
    except (OSError, ValueError, RecursionError):
        return None


if __name__ == "__main__":
    main()
