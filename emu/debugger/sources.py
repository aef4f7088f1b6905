"""What the debugger learns from a kernel's source beyond its source map:
macros (for `break MACRO`) and the lines that call them (for `break LINE` on
a macro call or an include)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from .locations import Locations, macro_lines


def _ir_bundles(assembly) -> list:
    """The IR's bundles when the kernel follows them one for one (it is not
    scheduled), else none."""
    module, kernel = assembly.module, assembly.kernel
    if module is None or kernel is None or len(module.bundles) != len(kernel.program):
        return []
    return module.bundles


def calls_of(assembly) -> dict[str, set[int]]:
    """'file:line' of every macro call and include -> the bundles it produced
    (unscheduled kernels)."""
    out: dict[str, set[int]] = {}
    for pc, bundle in enumerate(_ir_bundles(assembly)):
        for src in {id(o.src): o.src for o in bundle.ops}.values() or [bundle.src]:
            for note in src.chain:
                loc = note.location
                if loc is not None and loc.line is not None:
                    out.setdefault(f"{loc.file or '<input>'}:{loc.line}", set()).add(pc)
    return out


def chains_of(assembly) -> dict[int, tuple]:
    """pc -> the macro calls and includes its first op came through, innermost
    first (unscheduled kernels)."""
    out = {}
    for pc, bundle in enumerate(_ir_bundles(assembly)):
        chain = (bundle.ops[0].src if bundle.ops else bundle.src).chain
        if chain:
            out[pc] = chain
    return out


def from_assembly(assembly, main_file: str) -> Locations:
    """Locations for a kernel assembled from source in this process."""
    macros = assembly.expansion.macros if assembly.expansion is not None else {}
    return Locations(assembly.kernel, main_file=main_file, macros=macro_lines(macros),
                     calls=calls_of(assembly), chains=chains_of(assembly))


class SourceMacros(Mapping):
    """The macros of a kernel image's main source file, read on first use
    (only when a location is neither a label nor a line): assembling a large
    kernel takes a second, and most sessions never ask."""

    def __init__(self, locations: Locations) -> None:
        self.locations = locations
        self._found: dict[str, frozenset[str]] | None = None

    @property
    def found(self) -> dict[str, frozenset[str]]:
        if self._found is None:
            self._found = {}
            file = self.locations.main_file
            if file and os.path.isfile(file):
                from asm import assemble_full
                expansion = assemble_full(file).expansion
                if expansion is not None:
                    self._found = macro_lines(expansion.macros)
        return self._found

    def __getitem__(self, name: str) -> frozenset[str]:
        return self.found[name]

    def __iter__(self):
        return iter(self.found)

    def __len__(self) -> int:
        return len(self.found)


def for_image(kernel) -> Locations:
    """Locations for a kernel image: macros from its source file when it is there."""
    locations = Locations(kernel)
    locations.macros = SourceMacros(locations)
    return locations
