"""`asm.assemble`: the assembler as the list of its stages.

    text -> lines -> expand -> lower -> layout -> resolve -> Kernel

(text: reading the file; lines: asm/stages/parsecache.py and syntax.py, each
distinct line parsed once; expand: asm/stages/expand/; then lower.py,
layout.py, resolve.py.)
Each stage is a function of its own module, callable and testable alone;
diagnostics from every stage are collected so one run reports many errors.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..diagnostics import tidy_diagnostics
from ..errors import AssemblyError, Diagnostic, Location, Note, ToolchainError
from ..fileio import read_problem
from ..gcpause import gc_paused
from ..ir import Module
from ..kernel import Kernel
from ..source import Sources
from ..suggestions import kernel_image_instead
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
        result = Assembly(None, None)
        diags = result.diagnostics  # every stage's diagnostics, in one list
        module = _front(result, source, filename, defines, include_paths, reuse)
        if module is not None:
            addresses, layout_errors = layout(module)                    # layout
            diags += layout_errors
            diags += _open_externs(module)
            if not layout_errors:  # symbols without addresses would only cause more noise
                kernel, resolving = resolve(module, addresses)           # resolve
                diags += resolving
                if not any(d.severity == "error" for d in diags):
                    result.kernel = kernel
        result.diagnostics = tidy_diagnostics(diags, result.sources)
        if not keep_ir:
            result.module = result.expansion = None
        return result


def _front(result: Assembly, source: str | os.PathLike, filename: str | None,
           defines: Mapping[str, int] | None, include_paths: tuple[str, ...] | list[str],
           reuse: Reuse | None = None) -> Module | None:
    """The stages every assembly shares, into `result`: text, lines, expand,
    lower. The module (None when a stage stops the assembly)."""
    diags = result.diagnostics
    try:
        text, name = _read_source(source, filename, result.sources)     # text
    except AssemblyError as e:
        diags += e.diagnostics
        return None
    lines = file_lines(text, name, (), diags)                             # lines
    expansion = expand(lines, result.sources, include_paths=tuple(include_paths),
                       defines=defines, reuse=reuse)                      # expand
    result.expansion = expansion
    diags += expansion.diagnostics
    if expansion.halted:  # an incomplete expansion would only give more (and slow) noise
        return None
    module, lowering = lower(expansion.items, macros=expansion.macros)   # lower
    diags += lowering
    module.equs = dict(expansion.env)
    module.equ_sites = expansion.equ_sites
    result.module = module
    return module


def _open_externs(module: Module) -> list[ToolchainError]:
    """A module assembled alone has nothing to fill its `.extern`s with."""
    return [src.error(f"'{name}' is declared .extern but this module is assembled alone; "
                      "link it with 'vasm link'", pos)
            for name, (src, pos) in module.externs.items()
            if name not in module.symbols and name not in module.labels]


def assemble_module(source: str | os.PathLike, *, filename: str | None = None,
                    defines: Mapping[str, int] | None = None,
                    include_paths: tuple[str, ...] | list[str] = ()) -> Assembly:
    """Assemble one module for linking (`vasm assemble -c`): everything is
    checked that can be without the other modules; `.extern` names stay open.
    The result's `kernel` is None; its `module` is the IR to link (None after
    errors). Never raises for bad source."""
    with gc_paused():
        result = Assembly(None, None)
        module, diags = _front(result, source, filename, defines, include_paths), result.diagnostics
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
