"""The linker: modules (assembled, or read from `.vo` objects) -> one program.

    link(modules) -> Linked (one IR module, its scratch layout, the kernel)

In command-line order: code is concatenated and labels relocated; each
module's names are mapped to final names (`.global` names keep theirs, a
local name keeps its own unless another module uses it too, then it becomes
`MODULE.NAME`); `.extern` names bind to the one `.global` of that name;
equal `.const` words merge into one word and one `const` op; then the
ordinary layout and resolve stages of the assembler finish the job, with
module names in their messages. docs/linking.md has the rules.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .. import isa
from ..diagnostics import tidy_diagnostics
from ..errors import Diagnostic, Note, ToolchainError
from ..ir import Deferred, IRBundle, IROp, Module, Ref, Symbol
from ..kernel import Kernel
from ..source import Sources, Src
from ..stages.assembler import Assembly
from ..stages.expr import names as expr_names
from ..stages.expr import rename as expr_rename
from ..stages.layout import layout
from ..stages.resolve import resolve
from .objects import ObjectModule

MAX_SITES = 3  # reference sites listed per undefined symbol


@dataclass
class MergedConst:
    value: int
    kept: str  # the final name of the word that stays
    merged: list[str]  # final names that now mean the kept word


@dataclass
class Linked:
    """What linking produced: the kernel (None after errors), the linked IR,
    every diagnostic, and what the map file shows."""

    kernel: Kernel | None
    module: Module | None
    diagnostics: list[ToolchainError]
    sources: Sources
    modules: list[str] = field(default_factory=list)  # unique module names, in order
    paths: list[str | None] = field(default_factory=list)
    ranges: list[tuple[int, int]] = field(default_factory=list)  # linked bundles per module
    owners: dict[str, str] = field(default_factory=dict)  # final name -> module
    local: dict[str, str] = field(default_factory=dict)  # final name -> name in its module
    addresses: dict[str, int] = field(default_factory=dict)
    merged: list[MergedConst] = field(default_factory=list)

    @property
    def errors(self) -> list[ToolchainError]:
        return [d for d in self.diagnostics if d.severity == "error"]

    def assembly(self) -> Assembly:
        """The result as an Assembly (for the scheduler and listings)."""
        return Assembly(self.kernel, self.module, self.diagnostics, self.sources)


def _module_names(objs: Sequence[ObjectModule]) -> list[str]:
    out: list[str] = []
    for o in objs:
        name, n = o.name, 2
        while name in out:
            name, n = f"{o.name}_{n}", n + 1
        out.append(name)
    return out


class _Linker:
    def __init__(self, objs: Sequence[ObjectModule], sources: Sources) -> None:
        self.objs = list(objs)
        self.sources = sources
        self.diags: list[ToolchainError] = []
        self.names = _module_names(objs)
        # .global name -> (module index, "scratch" or "label")
        self.globals: dict[str, tuple[int, str]] = {}
        # per module: name in the module -> final name
        self.scratch_maps: list[dict[str, str]] = []
        self.label_maps: list[dict[str, str]] = []
        self.owners: dict[str, str] = {}
        self.local: dict[str, str] = {}
        # (module, name) of an .extern no .global satisfies -> reference sites
        self.unresolved: dict[tuple[int, str], list[tuple[Src, str]]] = {}

    # ------------------------------------------------------------ messages

    def locate(self, src: Src, name: str, message: str, *, notes=(),
               severity: str = "error") -> Diagnostic:
        """An error at `name` in its source line, when the line can be found."""
        text = src.text if src.text is not None else self.sources.line(src.file, src.lineno)
        pos = None
        if text is not None:
            hit = re.search(rf"(?<![\w.$]){re.escape(name)}(?![\w.$])", text)
            if hit:
                pos = hit.start()
        end = None if pos is None else pos + len(name)
        return src.error(message, pos, end, notes=tuple(notes), severity=severity)

    def definition(self, i: int, name: str) -> tuple[Src, int | None] | None:
        m = self.objs[i].module
        if name in m.symbols:
            s = m.symbols[name]
            return s.src, s.pos
        if name in m.labels:
            _, src, pos = m.labels[name]
            return src, pos
        return None

    # ------------------------------------------------------------ symbols

    def collect_globals(self) -> None:
        for i, o in enumerate(self.objs):
            m = o.module
            for name, (src, pos) in m.globals.items():
                kind = "scratch" if name in m.symbols else "label" if name in m.labels else None
                if kind is None:
                    self.diags.append(src.error(
                        f"'.global {name}': module {self.names[i]} defines no label or "
                        f"scratch symbol '{name}'", pos))
                    continue
                first = self.globals.get(name)
                if first is not None:
                    at, at_pos = self.definition(i, name)
                    fsrc, fpos = self.definition(first[0], name)
                    self.diags.append(at.error(
                        f"duplicate global symbol '{name}': modules {self.names[first[0]]} "
                        f"and {self.names[i]} both define it", at_pos,
                        notes=(Note(f"'{name}' is first defined here, in module "
                                    f"{self.names[first[0]]}", fsrc.loc(fpos)),)))
                    continue
                self.globals[name] = (i, kind)

    def final_names(self) -> None:
        defined = Counter()
        for o in self.objs:
            defined.update(set(o.module.symbols) | set(o.module.labels))
        used = set(self.globals)
        for o in self.objs:  # names that stay as written
            for name in [*o.module.symbols, *o.module.labels]:
                if defined[name] == 1 and name not in self.globals:
                    used.add(name)
        for i, o in enumerate(self.objs):
            m = o.module
            smap: dict[str, str] = {}
            lmap: dict[str, str] = {}
            for table, target in ((m.symbols, smap), (m.labels, lmap)):
                for name in table:
                    g = self.globals.get(name)
                    if (g[0] == i) if g is not None else defined[name] == 1:
                        final = name  # its module's global, or defined nowhere else
                    else:
                        final = self.qualified(i, name, used)
                    target[name] = final
                    self.owners[final] = self.names[i]
                    self.local[final] = name
            for name in m.externs:
                if name in smap or name in lmap:
                    continue
                g = self.globals.get(name)
                if g is None:
                    self.unresolved[(i, name)] = []
                elif g[1] == "scratch":
                    smap[name] = name
                else:
                    lmap[name] = name
            self.scratch_maps.append(smap)
            self.label_maps.append(lmap)

    def qualified(self, i: int, name: str, used: set[str]) -> str:
        final, n = f"{self.names[i]}.{name}", 2
        while final in used:
            final, n = f"{self.names[i]}.{name}${n}", n + 1
        used.add(final)
        return final

    # ------------------------------------------------------------ code

    def rename_module(self, i: int) -> list[IRBundle]:
        m = self.objs[i].module
        smap, lmap = self.scratch_maps[i], self.label_maps[i]
        args_done: dict[int, list] = {}
        ops_done: dict[int, IROp] = {}
        bundles_done: dict[int, IRBundle] = {}
        undeclared: set[str] = set()

        def scratch(name: str, src: Src) -> str:
            final = smap.get(name)
            if final is not None:
                return final
            self.missing(i, name, src, undeclared, lmap)
            return name

        def label(name: str, src: Src) -> str:
            final = lmap.get(name) or smap.get(name)
            if final is not None:
                return final
            self.missing(i, name, src, undeclared, smap)
            return name

        def new_args(o: IROp) -> list:
            """The op's operands with final names (the same list when no name changes)."""
            out = []
            changed = False
            for a in o.args:
                t = type(a)
                if t is Ref and a.name is not None:
                    final = scratch(a.name, o.src)
                    if final != a.name:
                        a, changed = Ref(final, a.offset, a.node), True
                elif t is Deferred:
                    mapping = {n.id: label(n.id, o.src) for n in expr_names(a.value)}
                    if any(k != v for k, v in mapping.items()):
                        a = Deferred(expr_rename(a.value, mapping), a.relative)
                        changed = True
                out.append(a)
            return out if changed else o.args

        out = []
        for b in m.bundles:
            nb = bundles_done.get(id(b))
            if nb is None:
                ops = []
                for o in b.ops:
                    no = ops_done.get(id(o))
                    if no is None:
                        args = args_done.get(id(o.args))
                        if args is None:
                            args = args_done[id(o.args)] = new_args(o)
                        no = o if args is o.args else IROp(o.op, args, o.src, o.pos, o.nodes)
                        ops_done[id(o)] = no
                    ops.append(no)
                nb = b
                if any(x is not y for x, y in zip(ops, b.ops, strict=True)):
                    nb = IRBundle(ops, b.src, b.pos, list(b.order), b.pinned)
                bundles_done[id(b)] = nb
            out.append(nb)
        return out

    def missing(self, i: int, name: str, src: Src, undeclared: set[str],
                other: dict[str, str]) -> None:
        sites = self.unresolved.get((i, name))
        if sites is not None:
            if len(sites) < MAX_SITES and all(s.where != src.where for s, _ in sites):
                sites.append((src, name))
            return
        if name in other or name in undeclared:
            return  # the wrong kind of name: resolve says so / already reported
        undeclared.add(name)
        self.diags.append(self.locate(
            src, name, f"'{name}' is not defined in module {self.names[i]} and not "
            "declared .extern there"))

    def report_unresolved(self) -> None:
        for (i, name), sites in self.unresolved.items():
            esrc, epos = self.objs[i].module.externs[name]
            notes = []
            for j in range(len(self.objs)):
                d = self.definition(j, name) if j != i else None
                if d is not None:
                    notes.append(Note(f"module {self.names[j]} defines '{name}' here but does "
                                      f"not export it; add '.global {name}' there",
                                      d[0].loc(d[1])))
            if sites:
                src, _ = sites[0]
                more = [Note("also used here", s.loc()) for s, _ in sites[1:]]
                self.diags.append(self.locate(
                    src, name, f"undefined symbol '{name}': module {self.names[i]} uses it, "
                    "and no module defines it as .global",
                    notes=[*more, Note(f"'{name}' is declared .extern here", esrc.loc(epos)),
                           *notes]))
            else:
                self.diags.append(esrc.error(
                    f"'.extern {name}' matches no .global symbol in any module", epos,
                    notes=tuple(notes)))

    # ------------------------------------------------------------ the whole

    def run(self) -> Linked:
        result = Linked(None, None, self.diags, self.sources, self.names,
                        [o.path for o in self.objs])
        self.collect_globals()
        self.final_names()
        out = Module()
        for i, o in enumerate(self.objs):
            m = o.module
            base = len(out.bundles)
            smap, lmap = self.scratch_maps[i], self.label_maps[i]
            for name, s in m.symbols.items():
                out.symbols[smap[name]] = replace(s, name=smap[name])
            for name, (pc, src, pos) in m.labels.items():
                out.labels[lmap[name]] = (pc + base, src, pos)
            for name in m.globals:
                if name in self.globals and self.globals[name][0] == i:
                    out.globals[name] = m.globals[name]
            for names_, src in m.restricts:
                out.restricts.append(([smap.get(n, n) for n in names_], src))
            out.pins.extend((a + base, b + base) for a, b in m.pins)
            out.bundles.extend(self.rename_module(i))
            result.ranges.append((base, len(out.bundles)))
        self.report_unresolved()
        result.owners, result.local = self.owners, self.local
        if any(d.severity == "error" for d in self.diags):
            result.diagnostics = tidy_diagnostics(self.diags, self.sources)
            return result
        result.merged = merge_constants(out, result)
        self.literal_targets(out, result)
        result.module = out
        addresses, layout_errors = layout(out, self.owners)
        self.diags.extend(layout_errors)
        if not layout_errors:
            result.addresses = addresses
            kernel, resolving = resolve(out, addresses)
            self.diags.extend(resolving)
            if not any(d.severity == "error" for d in self.diags):
                result.kernel = kernel
        result.diagnostics = tidy_diagnostics(self.diags, self.sources)
        return result

    def literal_targets(self, out: Module, result: Linked) -> None:
        """Numeric jump targets are bundle numbers, which linking moves."""
        moved = len(self.objs) > 1 or bool(result.merged)
        if not moved:
            return
        seen: set[int] = set()
        for b in out.bundles:
            for o in b.ops:
                if o.op.control is None or id(o) in seen:
                    continue
                seen.add(id(o))
                for operand, a in zip(o.op.operands, o.args, strict=True):
                    if operand.kind is isa.Kind.TARGET and type(a) is int:
                        self.diags.append(o.src.error(
                            f"jump target {a} is a bundle number, which linking does not "
                            "relocate; jump to a label instead", severity="warning"))


def merge_constants(out: Module, result: Linked) -> list[MergedConst]:
    """Equal `.const` words become one word and one `const` op: the first in
    link order stays. Only unpinned `.const` words whose one writer is their
    own `const` op (outside `.pin`) take part."""
    writers: dict[str, list[tuple[int, IROp]]] = {}
    for pc, b in enumerate(out.bundles):
        for o in b.ops:
            for index, _, is_write in o.op.scratch_operands:
                a = o.args[index - 1]
                if is_write and type(a) is Ref and a.name is not None:
                    sym = out.symbols.get(a.name)
                    if sym is not None and sym.const is not None:
                        writers.setdefault(a.name, []).append((pc, o))
    groups: dict[int, list[Symbol]] = {}
    for s in out.symbols.values():
        w = writers.get(s.name, [])
        if s.const is None or s.pin is not None or len(w) != 1:
            continue
        pc, o = w[0]
        at = o.op.immediate_index
        if at is None or o.args[at - 1] != s.const or out.bundles[pc].pinned:
            continue
        groups.setdefault(s.const, []).append(s)
    alias: dict[str, str] = {}
    drop: dict[int, set[int]] = {}  # bundle index -> ids of ops removed from it
    merged = []
    for value, syms in groups.items():
        if len(syms) < 2:
            continue
        kept = syms[0].name
        merged.append(MergedConst(value, kept, [s.name for s in syms[1:]]))
        for s in syms[1:]:
            alias[s.name] = kept
            pc, o = writers[s.name][0]
            drop.setdefault(pc, set()).add(id(o))
    if not merged:
        return []
    for name in alias:
        del out.symbols[name]
    out.restricts = [([alias.get(n, n) for n in names_], src) for names_, src in out.restricts]
    new_index: list[int] = []
    bundles: list[IRBundle] = []
    ops_done: dict[int, IROp] = {}

    def renamed(o: IROp) -> IROp:
        got = ops_done.get(id(o))
        if got is None:
            got = o
            if any(type(a) is Ref and a.name in alias for a in o.args):
                args = [Ref(alias[a.name], a.offset, a.node)
                        if type(a) is Ref and a.name in alias else a for a in o.args]
                got = IROp(o.op, args, o.src, o.pos, o.nodes)
            ops_done[id(o)] = got
        return got

    for pc, b in enumerate(out.bundles):
        new_index.append(len(bundles))
        gone = drop.get(pc, ())
        ops = [renamed(o) for o in b.ops if id(o) not in gone]
        if gone and not ops:
            continue  # the bundle held only merged const ops
        order = b.order
        if gone:  # engines left with no ops go, unless `.empty` named them
            order = [e for e in b.order if any(x.op.engine == e for x in ops)
                     or not any(x.op.engine == e for x in b.ops)]
        if gone or any(x is not y for x, y in zip(ops, b.ops, strict=True)):
            b = IRBundle(ops, b.src, b.pos, list(order), b.pinned)
        bundles.append(b)
    new_index.append(len(bundles))
    out.bundles = bundles
    out.labels = {n: (new_index[pc], src, pos) for n, (pc, src, pos) in out.labels.items()}
    out.pins = [(new_index[a], new_index[b]) for a, b in out.pins]
    result.ranges = [(new_index[a], new_index[b]) for a, b in result.ranges]
    return merged


def link(objs: Sequence[ObjectModule], *, sources: Sources | None = None) -> Linked:
    """Link modules in the given order. Never raises for bad input: errors are
    in the result's diagnostics, and its kernel is then None."""
    from ..gcpause import gc_paused
    with gc_paused():
        return _Linker(objs, sources if sources is not None else Sources()).run()
