"""The command-line pieces both front ends share (`vasm` and `vemu` assemble
.vasm files alike): the -D and -I options, and assembling a file with its
diagnostics printed and the exit status chosen."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .diagnostics import render, render_all
from .errors import ToolchainError
from .fileio import OutputClash, check_outputs
from .project import ProjectOptions, project_options

if TYPE_CHECKING:
    from .stages.assembler import Assembly

EXIT_BAD_INPUT = 1
EXIT_USAGE = 2

Outputs = Iterable[str | None]


def refuse_clobbering(outputs: Outputs, inputs: Iterable[str | os.PathLike],
                      program: str = "vasm") -> None:
    """End the run (exit 2) when an output would replace one of the inputs
    or another output (asm/fileio.py check_outputs). Every command that
    writes calls it before writing, with every file it reads."""
    try:
        check_outputs(outputs, inputs)
    except OutputClash as e:
        click.echo(render(e, program=program), err=True)
        sys.exit(EXIT_USAGE)


# What each kind of output is, and the endings its names have.
OUTPUT_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "image": ("a kernel image (JSON)", (".json",)),
    "source": (".vasm source", (".vasm", ".s", ".asm", ".txt")),
    "object": ("an object (JSON)", (".vo", ".json")),
    "json": ("JSON", (".json",)),
    "html": ("an HTML page", (".html", ".htm")),
}


def warn_extension(path: str | None, kind: str, program: str = "vasm",
                   hint: str | None = None) -> None:
    """A warning when an output's name says another format than the one
    written (`vasm import -o mine.txt` writes JSON): the file is written
    anyway. `-`, devices and FIFOs are not named for a format."""
    if path is None or path == "-" or (os.path.exists(path) and not os.path.isfile(path)):
        return
    what, endings = OUTPUT_KINDS[kind]
    if path.lower().endswith(endings):
        return
    note = f" ({hint})" if hint else ""
    click.echo(f"{program}: warning: {path}: writing {what}, but the name does not end in "
               f"{' or '.join(endings[:2])}{note}", err=True)


def files_read(result: Assembly) -> list[str]:
    """Every file an assembly read: its source and what it included."""
    return [name for name in result.sources.texts if name != "<input>"]


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
                     keep_ir: bool = False, outputs: Outputs = ()) -> Assembly:
    """Assemble a file, print its diagnostics, exit with `exit_code` on errors.
    `outputs` are the files the command will write: one that is a file the
    assembly read (an included one too) ends the run (`refuse_clobbering`)."""
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
    extra = [project.path] if project.path is not None else []
    refuse_clobbering(outputs, [*files_read(result), *extra], program)
    return result


def project_or_exit(src: str, program: str = "vasm") -> ProjectOptions:
    """The vasm.toml beside `src` (asm/project.py); a bad one ends the run."""
    try:
        return project_options(src)
    except ToolchainError as e:
        click.echo(render(e, program=program), err=True)
        sys.exit(EXIT_BAD_INPUT)
