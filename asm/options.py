"""The command-line pieces both front ends share (`vasm` and `vemu` assemble
.vasm files alike): the -D and -I options, and assembling a file with its
diagnostics printed and the exit status chosen."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .diagnostics import render, render_all
from .errors import ToolchainError
from .project import ProjectOptions, project_options

if TYPE_CHECKING:
    from .stages.assembler import Assembly

EXIT_BAD_INPUT = 1


def parse_defines(values: tuple[str, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        name, _, value = v.partition("=")
        try:
            out[name.strip()] = int((value or "1").replace("_", ""), 0)
        except ValueError:
            raise click.BadParameter(f"{v!r}: expected NAME=INTEGER", param_hint="-D") from None
        if not name.strip().isidentifier():
            raise click.BadParameter(f"{v!r}: {name!r} is not a name", param_hint="-D")
    return out


def assemble_options(f):
    """-D and -I, shared by every command that assembles (vemu run too)."""
    f = click.option("-I", "include_paths", multiple=True, metavar="DIR",
                     type=click.Path(file_okay=False),
                     help="Search DIR for .include files (after the including file's own).")(f)
    f = click.option("-D", "defines", multiple=True, metavar="NAME=VALUE",
                     help="Define an assembly-time constant (like .equ).")(f)
    return f


def assemble_or_exit(src: str, defines: tuple[str, ...], include_paths: tuple[str, ...], *,
                     max_errors: int | None = None, werror: bool = False,
                     program: str = "vasm", exit_code: int = EXIT_BAD_INPUT,
                     keep_ir: bool = False) -> Assembly:
    """Assemble a file, print its diagnostics, exit with `exit_code` on errors."""
    # Imported here: `vemu` shares these options, and running a kernel image
    # should not load the assembler (and Lark).
    from .stages.assembler import assemble_full
    project = project_or_exit(src, program)
    result = assemble_full(Path(src), defines={**project.defines, **parse_defines(defines)},
                           include_paths=(*include_paths, *project.include_paths),
                           keep_ir=keep_ir)
    failed = result.kernel is None or bool(result.errors) or (werror and result.warnings)
    if result.diagnostics:
        click.echo(render_all(result.diagnostics, result.sources, max_errors=max_errors,
                              program=program), err=True)
    if failed:
        sys.exit(exit_code)
    return result


def project_or_exit(src: str, program: str = "vasm") -> ProjectOptions:
    """The vasm.toml beside `src` (asm/project.py); a bad one ends the run."""
    try:
        return project_options(src)
    except ToolchainError as e:
        click.echo(render(e, program=program), err=True)
        sys.exit(EXIT_BAD_INPUT)
