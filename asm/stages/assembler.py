"""`asm.assemble`: the assembler as the list of its stages.

    parse -> expand -> lower -> layout -> resolve -> Kernel

Each stage is a function of its own module, callable and testable alone;
diagnostics from every stage are collected so one run reports many errors.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import AssemblyError, Diagnostic, Location, Note, ToolchainError
from ..fileio import read_problem
from ..gcpause import gc_paused
from ..hints import kernel_image_instead, with_comment_notes
from ..ir import Module
from ..kernel import Kernel
from ..source import Sources
from .expand import Expansion, expand, file_lines
from .layout import layout
from .lower import lower
from .resolve import resolve
from .reuse import Reuse


@dataclass
class Assembly:
    """Everything one assembly produced: the kernel (None after errors), the IR,
    every diagnostic, and the text of every file read."""

    kernel: Kernel | None
    module: Module | None
    diagnostics: list[ToolchainError] = field(default_factory=list)
    sources: Sources = field(default_factory=Sources)
    expansion: Expansion | None = None

    @property
    def errors(self) -> list[ToolchainError]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[ToolchainError]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def _read_source(source: str | os.PathLike, filename: str | None,
                 sources: Sources) -> tuple[str, str]:
    if isinstance(source, os.PathLike) or (
            isinstance(source, str) and "\n" not in source and source.endswith(".vasm")):
        path = os.fspath(source)
        try:
            text = sources.read(path)
        except (OSError, UnicodeDecodeError) as e:
            raise AssemblyError([Diagnostic(read_problem(e), location=Location(path))]) from None
        name = path
    else:
        name = filename or "<input>"
        text = source
        sources.add(name, source)
    if kernel_image_instead(text):
        raise AssemblyError([Diagnostic(
            "this is a kernel image (JSON), not .vasm source", location=Location(name),
            notes=(Note(f"'vasm disasm {name}' turns it into source; 'vemu run {name}' "
                        "runs it as it is"),))])
    return text, name


def assemble_full(source: str | os.PathLike, *, filename: str | None = None,
                  defines: Mapping[str, int] | None = None,
                  include_paths: tuple[str, ...] | list[str] = (),
                  keep_ir: bool = True, reuse: Reuse | None = None) -> Assembly:
    """Assemble and keep everything (IR, diagnostics); never raises for bad source.

    With `keep_ir=False` the IR and expansion are dropped (module and
    expansion are None), which spares the collector from walking them.
    `reuse` carries work from one assembly to the next (asm/stages/reuse.py):
    an editor keeps one while a file is edited.
    """
    with gc_paused():  # millions of small acyclic objects; see gcpause.py
        result = _assemble_full(source, filename, defines, include_paths, reuse)
        result.diagnostics = tidy_diagnostics(result.diagnostics, result.sources)
        if not keep_ir:
            result.module = result.expansion = None
        return result


def _front(source: str | os.PathLike, filename: str | None,
           defines: Mapping[str, int] | None, include_paths: tuple[str, ...] | list[str],
           reuse: Reuse | None = None) -> Assembly:
    """Read, expand and lower: the Assembly holds the module (or only diagnostics)."""
    sources = Sources()
    result = Assembly(None, None, sources=sources)
    try:
        text, name = _read_source(source, filename, sources)
    except AssemblyError as e:
        result.diagnostics = e.diagnostics
        return result
    diags = result.diagnostics
    lines = file_lines(text, name, (), diags)
    expansion = expand(lines, sources, include_paths=tuple(include_paths), defines=defines,
                       reuse=reuse)
    result.expansion = expansion
    diags.extend(expansion.diagnostics)
    if expansion.halted:  # an incomplete expansion would only give more (and slow) noise
        return result
    module, lowering = lower(expansion.items, macros=expansion.macros)
    diags.extend(lowering)
    module.equs = {k: v for k, v in expansion.env.items()}
    module.equ_sites = expansion.equ_sites
    result.module = module
    return result


def _assemble_full(source: str | os.PathLike, filename: str | None,
                   defines: Mapping[str, int] | None,
                   include_paths: tuple[str, ...] | list[str],
                   reuse: Reuse | None = None) -> Assembly:
    result = _front(source, filename, defines, include_paths, reuse)
    module, diags = result.module, result.diagnostics
    if module is None:
        return result
    addresses, layout_errors = layout(module)
    diags.extend(layout_errors)
    for name, (src, pos) in module.externs.items():
        if name not in module.symbols and name not in module.labels:
            diags.append(src.error(f"'{name}' is declared .extern but this module is "
                                   "assembled alone; link it with 'vasm link'", pos))
    if layout_errors:  # symbols without addresses would only cause more noise
        return result
    kernel, resolving = resolve(module, addresses)
    diags.extend(resolving)
    if not any(d.severity == "error" for d in diags):
        result.kernel = kernel
    return result


def assemble_module(source: str | os.PathLike, *, filename: str | None = None,
                    defines: Mapping[str, int] | None = None,
                    include_paths: tuple[str, ...] | list[str] = ()) -> Assembly:
    """Assemble one module for linking (`vasm assemble -c`): everything is
    checked that can be without the other modules; `.extern` names stay open.
    The result's `kernel` is None; its `module` is the IR to link (None after
    errors). Never raises for bad source."""
    with gc_paused():
        result = _front(source, filename, defines, include_paths)
        module, diags = result.module, result.diagnostics
        if module is not None:
            check_module(module, diags)
        result.diagnostics = tidy_diagnostics(diags, result.sources)
        if result.errors:
            result.module = None
        return result


def check_module(module: Module, diags: list[ToolchainError]) -> None:
    """What a module alone must get right: `.global` names it defines, a
    scratch layout of its own, and every operand naming something it defines
    or declares `.extern`."""
    for name, (src, pos) in module.globals.items():
        if name not in module.symbols and name not in module.labels:
            diags.append(src.error(f"'.global {name}': this module defines no label or "
                                   f"scratch symbol '{name}'", pos))
        elif name in module.externs:
            esrc, epos = module.externs[name]
            diags.append(esrc.error(f"'{name}' is declared both .global and .extern", epos))
    for name, (src, pos) in module.externs.items():
        defined = name in module.symbols or name in module.labels
        if defined and name not in module.globals:
            diags.append(src.error(f"'{name}' is declared .extern but this module "
                                   "defines it; the definition is used", pos,
                                   severity="warning"))
    addresses, layout_errors = layout(module)
    diags.extend(layout_errors)
    if not layout_errors:
        diags.extend(resolve(module, addresses, partial=True)[1])


def tidy_diagnostics(diagnostics: list[ToolchainError], sources: Sources | None = None
          ) -> list[ToolchainError]:
    """In source order, each distinct diagnostic once (a mistake inside a loop,
    or in a macro called from many places, is one mistake), with notes for
    comments written the way other languages write them."""
    first: dict[tuple, ToolchainError] = {}
    for d in diagnostics:
        # Not the notes: a mistake in a macro body reached through many call
        # chains (a recursion) is one mistake, shown with its first chain.
        first.setdefault((d.message, d.location, d.severity), d)
    tidy = sorted(first.values(), key=_position)
    return with_comment_notes(tidy, sources.line) if sources is not None else tidy


def _position(d: ToolchainError) -> tuple:
    loc = d.location
    if loc is None:
        return ("", 0, 0)
    return (loc.file or "", loc.line or 0, loc.col or 0)


def assemble(source: str | os.PathLike, *, filename: str | None = None,
             defines: Mapping[str, int] | None = None,
             include_paths: tuple[str, ...] | list[str] = ()) -> Kernel:
    """Assemble `.vasm` source into a Kernel.

    `source` is a path (an `os.PathLike`, or a one-line string ending in
    `.vasm`) or the source text itself (then `filename` names it in messages).
    Raises AssemblyError holding every diagnostic when there are errors.
    """
    result = assemble_full(source, filename=filename, defines=defines,
                           include_paths=include_paths, keep_ir=False)
    if result.kernel is None or result.errors:
        raise AssemblyError(result.diagnostics or [Diagnostic("assembly failed")])
    return result.kernel
