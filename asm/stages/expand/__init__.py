"""Expand stage: includes, macros, loops, conditionals and assembly-time names.

Turns the parsed lines of a file into a flat list of `Item`s for lowering:
labels, braces and statements, with every expression folded against the
`.equ` names, `-D` defines and loop variables in force where it stands.
`{NAME}` and `{@}` are replaced in the text of macro and loop bodies; each
rewritten line's parse is made from its body line's (treesubst.py), or the
text parsed again (each distinct text once).
"""

from __future__ import annotations

from collections.abc import Mapping

from ...errors import Diagnostic, Location, Note
from ...source import Sources, Src
from ...suggestions import still_substituted_message
from ...tree import Assign, Indexed, Key, KeyVal, Name, Node, Num, Raw, Stmt, Str, Tup
from ..expr import ExprError, Value, fold, names
from ..reuse import Reuse

# (limits read at use, so that tests can lower them)
from . import model as limits
from .blocks import BlockExpansion
from .directives import DIRECTIVES, DirectiveExpansion
from .macros import MacroExpansion
from .model import (
    BLOCKS,
    BUILTINS,
    MAX_PLANS,
    STRUCTURE,
    ExpandError,
    Expansion,
    Item,
    SrcLine,
    file_lines,
)
from .plan import Plan, key_value, names_of
from .replay import Recording, ReplayExpansion

# What other stages and tests take from here.
__all__ = ["BLOCKS", "DIRECTIVES", "Expander", "Expansion", "Item", "SrcLine",
           "expand", "file_lines"]


class Expander(BlockExpansion, MacroExpansion, DirectiveExpansion, ReplayExpansion):
    """Expands the lines of a file, keeping what expansion has defined so far."""

    def __init__(self, sources: Sources, include_paths: tuple[str, ...] = (),
                 defines: Mapping[str, int] | None = None, reuse: Reuse | None = None) -> None:
        self.sources = sources
        self.include_paths = tuple(include_paths)
        self.out = Expansion()
        self.out.env.update(BUILTINS)
        self.out.env.update(defines or {})
        self.counter = 0
        self.depth = 0
        self.nesting = 0  # blocks open around the line being expanded
        self.early: dict[str, Location] = {}  # names .equ values used before they were set
        # Where each .equ name was last set (Expansion.equ_sites, made at the end).
        self.equ_places: dict[str, tuple[Src, int]] = {}
        self.iterations = 0
        self.macro_calls = 0
        self.halted = False  # a runaway expansion was reported: nothing more is expanded
        self.loops: list[tuple[SrcLine, Stmt]] = []  # the .rept and .for loops running
        self.loop_vars: set[str] = set()
        self.nest = object()  # a new one for every loop run (see Plan.fills)
        self.recordings: dict[tuple, Recording] = {}  # loop bodies, by their lines' ids
        # Blocks found in a list of lines, and the lines of their bodies and
        # branches, by the list's id and positions in it (blocks.py); each
        # entry keeps the list, so that its id stays its own.
        self.block_ends: dict[tuple[int, int], tuple[list, int | None, list[int]]] = {}
        self.block_parts: dict[tuple[int, int, int], tuple[list, list]] = {}
        self.macro_version = 0  # one more at every macro definition
        # (index, plan) of the items filled in while an iteration that may be
        # recorded runs (none are kept outside one: a loop of one line may fill
        # millions), and how many such iterations are running.
        self.filled: list[tuple[int, Plan]] = []
        self.recording_runs = 0
        self.unfilled = 0  # lines that could not be filled in (see _fill)
        self.reuse = reuse if reuse is not None else Reuse()
        self.reuse.trim()
        self.run_token = object()  # in the plans this run checked (not self: no cycle)

    # ------------------------------------------------------------ reporting

    def error(self, src: Src, message: str, node=None, *, severity: str = "error",
              notes: tuple[Note, ...] = ()) -> Diagnostic:
        pos = node if isinstance(node, int) else getattr(node, "pos", None)
        end = getattr(node, "end", None)
        d = src.error(message, pos, end, severity=severity, notes=notes)
        self.out.diagnostics.append(d)
        return d

    def fail(self, src: Src, message: str, node=None) -> ExpandError:
        self.error(src, message, node)
        return ExpandError()

    # ------------------------------------------------------------ driver

    def run(self, lines: list[SrcLine]) -> None:
        """Expand lines. A line of plain ops and labels yields the same items
        whenever the names it mentions have the same values, so those items
        are reused (they are never edited, only read): each line has a `Plan`
        in the Reuse."""
        if self.halted:  # a runaway expansion was reported: expand nothing more
            return
        if not self.loops and self.depth == 0:
            self._run_once(lines)
            return
        i = 0
        n = len(lines)
        reuse, run_token = self.reuse, self.run_token
        line, plans, macros, ident = self.line, reuse.plans, self.out.macros, reuse.ident
        unrepeatable, fill, nest = self._unrepeatable, self._fill, self.nest
        numbered = reuse.token
        items, value_of = self.out.items, self.out.env.get
        while i < n and not self.halted:
            sl = lines[i]
            # (the number inline: a call per line costs more than the lookup)
            plan = plans.get(sl.ident if sl.numbered_by is numbered else ident(sl))
            if plan is not None and plan.names is not None and (
                    plan.checked_run is not run_token or plan.checked_macros != len(macros)):
                # Macros were defined since (or this is another assembly): a
                # statement of the line may now call one.
                if any(h in macros for h in plan.heads):
                    plan = None
                else:
                    plan.checked_run, plan.checked_macros = run_token, len(macros)
            if plan is None:
                stmts = sl.line.stmts
                if stmts and type(stmts[0]) is Stmt and stmts[0].name in STRUCTURE:
                    i = self.block(lines, i)
                    continue
                plan = plans[sl.ident] = Plan(sl, self._reusable(sl), run_token, macros)
            key = None
            try:
                if plan.names is not None:
                    if plan.fills is nest and fill(sl, plan):
                        i += 1
                        continue
                    key = tuple(map(value_of, plan.names))
                    got = plan.kept.get(key)
                    if got is not None:  # the commonest case, so without a call
                        items.extend(got)
                        i += 1
                        continue
                    if plan.hole is not None and (len(plan.kept) >= MAX_PLANS
                                                  or unrepeatable(plan.name_set)):
                        plan.fills = nest  # (so for the rest of these loops)
                        if fill(sl, plan):
                            i += 1
                            continue
                elif plan.call is not None and plan.call.name in macros:
                    # A lone macro call: straight to the macro (a plan kept
                    # from another assembly may name one this one lacks).
                    self.call(sl, plan.call)
                    if len(items) > limits.MAX_ITEMS:
                        raise self.runaway(sl, None)
                    i += 1
                    continue
                line(sl, plan if key is not None else None, key)
            except ExpandError:
                pass
            i += 1

    def _run_once(self, lines: list[SrcLine]) -> None:
        """Lines outside every loop and macro: each runs once, so there is
        nothing to reuse and no plan to make."""
        i, n = 0, len(lines)
        while i < n and not self.halted:
            sl = lines[i]
            stmts = sl.line.stmts
            if stmts and type(stmts[0]) is Stmt and stmts[0].name in STRUCTURE:
                i = self.block(lines, i)
                continue
            try:  # noqa: SIM105 (a with-statement per line costs more than the line)
                self._line(sl)
            except ExpandError:
                pass
            i += 1

    def line(self, sl: SrcLine, plan: Plan | None, key: tuple | None) -> None:
        """Expand one line; its items are kept in its plan under `key` for
        reuse, if given, if they can recur, and if the line gave no diagnostic."""
        if plan is None:
            self._line(sl)
            return
        if len(plan.kept) >= MAX_PLANS or self._unrepeatable(plan.name_set):
            # A line with many distinct values (indexed by a loop variable):
            # memory stays bounded when values never repeat. (A debug key
            # naming the loop variables is filled into the line's template
            # before it comes here: see run.)
            self._line(sl)
            return
        kept = plan.kept
        items = self.out.items
        start, diags = len(items), len(self.out.diagnostics)
        self._line(sl)
        if len(self.out.diagnostics) == diags:
            kept[key] = items[start:]

    def _fill(self, sl: SrcLine, plan: Plan) -> bool:
        """Emit the line's one statement as its template with this iteration's
        debug key for the hole (see Plan): whether it could. Lowering reuses
        the template's operands."""
        h = plan.hole
        env = self.out.env
        key = key_value(plan.key_node, env)
        around = tuple(map(env.get, plan.around)) if plan.around else ()
        template = None if key is None else plan.templates.get(around)
        if template is None:
            # (a name in the key that is no number, too many templates, a
            # statement that does not fold: expanded as it is, and not replayed)
            diags = len(self.out.diagnostics)
            if key is None or len(plan.templates) >= MAX_PLANS:
                self.unfilled += 1
                return False
            template = self.fold_stmt(sl.src, sl.line.stmts[0])
            if len(self.out.diagnostics) != diags:
                self.unfilled += 1
                return False
            plan.templates[around] = template
        items = self.out.items
        if self.recording_runs:
            self.filled.append((len(items), plan))
        items.append(Item("stmt", template, sl.src, template.pos, h, key))
        return True

    def _unrepeatable(self, names: frozenset[str]) -> bool:
        """Whether a line mentioning `names` meets new values at every iteration
        of the loops running (they are all `.for` loops and it uses every one's
        variable, as a debug key such as (round, i) does). Its items are not
        kept: they could recur only if the whole nest ran again. (Lines outside
        every loop and macro never come here: see _run_once.)"""
        loops = self.loops
        if not loops:
            return False
        loop_vars = self.loop_vars
        return len(loop_vars) == len(loops) and loop_vars <= names

    def _reusable(self, sl: SrcLine) -> tuple[str, ...] | None:
        """The names a line's items depend on, or None if expanding it does more
        than emit items (defines, calls, includes, reports)."""
        names: list[str] = []
        for s in sl.line.stmts:
            if type(s) is Assign or s.name in self.out.macros or s.name in DIRECTIVES:
                return None
            names.extend(names_of(s))
        return tuple(dict.fromkeys(names))

    def _line(self, sl: SrcLine) -> None:
        line, src = sl.line, sl.src
        items = self.out.items
        if line.label is not None:
            label = line.label
            if "{" in label.id:
                self.error(src, still_substituted_message(label.id), label)
            items.append(Item("label", label, src, label.pos))
        if line.open is not None:
            items.append(Item("open", None, src, line.open))
        for s in line.stmts:
            try:
                if type(s) is Assign:
                    self.define(src, s.name, s.value, s)
                elif s.name in self.out.macros:
                    self.call(sl, s)
                elif s.name in DIRECTIVES:
                    DIRECTIVES[s.name](self, sl, s)
                else:
                    folded = self.fold_stmt(src, s)
                    items.append(Item("stmt", folded, src, s.pos))
            except ExpandError:
                pass
        if line.close is not None:
            items.append(Item("close", None, src, line.close))
        if len(items) > limits.MAX_ITEMS:
            raise self.runaway(sl, None)

    # ------------------------------------------------------------ folding

    def fold_stmt(self, src: Src, s: Stmt) -> Stmt:
        """`s` with its arguments folded; `s` itself when nothing changes (lines
        that repeat with the same values reuse their items whole: see line())."""
        env = self.out.env
        new = None
        for i, a in enumerate(s.args):
            t = type(a)
            if t is Num or t is Str:
                continue
            if t is Name and a.id not in env:
                continue
            if t is Indexed and type(a.index) is Num:
                continue
            f = _constant_key(a, env) if t is Tup else None
            if f is None:
                f = self.fold_arg(src, a)
            if f is not a:
                if new is None:
                    new = list(s.args)
                new[i] = f
        pin = s.pin
        if pin is not None:
            pin = self.fold_arg(src, pin)
        if new is None and pin is s.pin:
            return s
        return Stmt(s.name, s.pos, new if new is not None else s.args, pin)

    def fold_arg(self, src: Src, a: Node) -> Node:
        t = type(a)
        if t is Num or t is Str:
            return a
        try:
            if t is Indexed:
                return Indexed(a.name, self.as_node(fold(a.index, self.out.env), a.index), a.end)
            if t is Raw:
                r = Raw(self.as_node(fold(a.addr, self.out.env), a.addr), a.pos)
                return r
            if t is Tup or isinstance(a, Tup):
                env = self.out.env
                items = []
                changed = False
                for x in a.items:
                    tx = type(x)
                    if tx is Num or tx is Str:
                        f = x
                    elif tx is Name:  # the common case of a debug key: inline
                        v = env.get(x.id)
                        f = x if v is None else self.as_node(v, x)
                    else:
                        f = self.fold_arg(src, x)
                    changed = changed or f is not x
                    items.append(f)
                return type(a)(items, a.pos, a.end) if changed else a
            if t is KeyVal:
                return KeyVal(a.name, self.as_node(fold(a.value, self.out.env), a.value))
            if t is Str:
                return a
            return self.as_node(fold(a, self.out.env), a)
        except ExprError as e:
            raise self.fail(src, e.message, e.pos) from None

    @staticmethod
    def as_node(v: Value, where: Node) -> Node:
        return Num(v, where.pos, where.end) if type(v) is int else v

    def constant(self, src: Src, node: Node, what: str) -> int:
        """An expression that must be known now (a loop bound, a condition)."""
        try:
            v = fold(node, self.out.env)
        except ExprError as e:
            raise self.fail(src, e.message, e.pos) from None
        if type(v) is not int:
            unknown = names(v)
            first = unknown[0] if unknown else node
            raise self.fail(src, f"{what} must be known during expansion, but "
                            f"'{getattr(first, 'id', '?')}' is not an assembly-time constant "
                            "(.equ, -D or loop variable)", first)
        return v


    # ------------------------------------------------------------ macros


def _constant_key(a: Tup, env: dict[str, Value]) -> Key | None:
    """A debug key of numbers, strings and names bound to numbers (the loop
    variables of `(round, i, "val")`) as a Key; None for anything else,
    which fold_arg folds."""
    value = key_value(a, env)
    return None if value is None else Key(value, a.pos, a.end)


def expand(lines: list[SrcLine], sources: Sources, *, include_paths: tuple[str, ...] = (),
           defines: Mapping[str, int] | None = None, reuse: Reuse | None = None
           ) -> Expansion:
    """Expand parsed lines into items; diagnostics are collected, not raised.
    `reuse` keeps work for later expansions (asm/stages/reuse.py)."""
    ex = Expander(sources, include_paths, defines, reuse)
    ex.run(lines)
    ex.out.halted = ex.halted
    ex.out.equ_sites = {name: src.loc(pos) for name, (src, pos) in ex.equ_places.items()}
    return ex.out
