"""Expand stage: includes, macros, loops, conditionals and assembly-time names.

Turns the parsed lines of a file into a flat list of `Item`s for lowering:
labels, braces and statements, with every expression folded against the
`.equ` names, `-D` defines and loop variables in force where it stands.
`{NAME}` and `{@}` are replaced in the text of macro and loop bodies, and the
rewritten lines parsed again (each distinct text once).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .. import isa, keywords
from ..errors import Diagnostic, Location, Note, ToolchainError
from ..hints import still_substituted_message
from ..source import Sources, Src
from .expr import ExprError, Value, fold, names
from .syntax import MAX_DEPTH as MAX_EXPR_DEPTH
from .syntax import (
    Assign,
    Indexed,
    Key,
    KeyVal,
    Line,
    Name,
    Node,
    Num,
    Raw,
    Stmt,
    Str,
    Tup,
    depth,
    parse,
    parse_line,
)

BUILTINS: dict[str, int] = {"VLEN": isa.VLEN, "SCRATCH_SIZE": isa.SCRATCH_SIZE}
MAX_DEPTH = 64  # macro calls and includes nested deeper than this are an error
MAX_NESTING = 100  # and blocks (.if, .for, .rept, .macro) nested deeper than this
INCLUDED_FROM = "in file included from here"  # the note an include adds to its lines
MAX_ITEMS = 2_000_000  # expansion larger than this is surely a runaway loop (~1 KB each)
MAX_ITERATIONS = 20_000_000  # so are more loop iterations (even of empty bodies)
MAX_CALLS = 100_000  # and more macro calls (a macro calling itself twice doubles)
MAX_PLANS = 1024  # value combinations of one line whose items are kept for reuse

# The blocks expansion handles (a .pin block is lowering's), opener -> closer.
BLOCKS = {k: v for k, v in keywords.BLOCKS.items() if k != ".pin"}
_CLOSERS = {v: k for k, v in BLOCKS.items()}
_STRUCTURE = frozenset([*BLOCKS, *_CLOSERS, *keywords.BRANCHES])
_PLACEHOLDER = re.compile(r"\{(@|[A-Za-z_.$][A-Za-z0-9_.$]*)\}")


@dataclass(slots=True)
class Item:
    """One thing for lowering: kind is 'label' (node: Name), 'open', 'close'
    or 'stmt' (node: Stmt with folded arguments)."""

    kind: str
    node: Node | Stmt | None
    src: Src
    pos: int
    # What lowering may meet again, so is worth remembering: NEW (nothing),
    # STMT (the statement object recurs: it is the parsed one, unfolded) or
    # ITEM (this very item recurs: its line's expansion is reused).
    reuse: int = 0


NEW, STMT, ITEM = 0, 1, 2


@dataclass(slots=True)
class SrcLine:
    line: Line
    src: Src
    text: str  # the line's text; offsets in `line` count from its start


@dataclass
class Macro:
    name: str
    params: list[str]
    defaults: dict[str, str]
    body: list[SrcLine]
    src: Src
    unique: bool = False  # the body uses {@}, so no two expansions are alike


@dataclass
class Expansion:
    items: list[Item] = field(default_factory=list)
    env: dict[str, Value] = field(default_factory=dict)
    equ_sites: dict[str, Location] = field(default_factory=dict)  # where each .equ was last set
    macros: dict[str, Macro] = field(default_factory=dict)
    diagnostics: list[ToolchainError] = field(default_factory=list)
    halted: bool = False  # stopped by a resource limit: the items are incomplete


class ExpandError(Exception):
    """Abandons the statement being expanded; the diagnostic is already recorded."""


def file_lines(text: str, filename: str | None, chain: tuple[Note, ...],
               diagnostics: list[ToolchainError]) -> list[SrcLine]:
    """Parse a file into lines with their positions."""
    errors: list[ToolchainError] = []
    lines = parse(text, filename, errors)
    for e in errors:
        e.notes = (*e.notes, *chain)
    diagnostics.extend(errors)
    raw = text.split("\n")
    return [SrcLine(ln, Src(filename, lineno, None, None, chain), raw[lineno - 1])
            for lineno, ln in lines]


class Expander:
    def __init__(self, sources: Sources, include_paths: tuple[str, ...] = (),
                 defines: Mapping[str, int] | None = None) -> None:
        self.sources = sources
        self.include_paths = tuple(include_paths)
        self.out = Expansion()
        self.out.env.update(BUILTINS)
        self.out.env.update(defines or {})
        self.counter = 0
        self.depth = 0
        self.nesting = 0  # blocks open around the line being expanded
        self.early: dict[str, Location] = {}  # names .equ values used before they were set
        self.iterations = 0
        self.macro_calls = 0
        self.halted = False  # a runaway expansion was reported: nothing more is expanded
        self.loops: list[tuple[SrcLine, Stmt]] = []  # the .rept and .for loops running
        self.loop_vars: set[str] = set()
        self.reparsed: dict[str, list[Line]] = {}
        self.plans: dict[int, tuple] = {}
        self.calls: dict[tuple[int, int], tuple] = {}  # (call line, statement) -> body
        self.substituted: dict[tuple, list[SrcLine]] = {}

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
        are reused (they are never edited, only read): each line has a plan,
        (line, macros defined when made, the names or None, {values: items},
        the names as a set)."""
        if self.halted:  # a runaway expansion was reported: expand nothing more
            return
        i = 0
        n = len(lines)
        line, plans, macros = self.line, self.plans, self.out.macros
        items, value_of = self.out.items, self.out.env.get
        while i < n and not self.halted:
            sl = lines[i]
            plan = plans.get(id(sl))
            if plan is None or plan[1] != len(macros):  # new, or a macro may now be called
                stmts = sl.line.stmts
                if stmts and type(stmts[0]) is Stmt and stmts[0].name in _STRUCTURE:
                    i = self.block(lines, i)
                    continue
                names = self._reusable(sl)
                plan = plans[id(sl)] = (sl, len(macros), names, {},
                                        None if names is None else frozenset(names))
            key = None
            if plan[2] is not None:
                key = tuple(map(value_of, plan[2]))
                got = plan[3].get(key)
                if got is not None:  # the commonest case, so without a call
                    items.extend(got)
                    i += 1
                    continue
            try:  # noqa: SIM105 (a with-statement per line costs more than the line)
                line(sl, plan if key is not None else None, key)
            except ExpandError:
                pass
            i += 1

    def line(self, sl: SrcLine, plan: tuple | None, key: tuple | None) -> None:
        """Expand one line; its items are kept in its plan under `key` for
        reuse, if given, if they can recur, and if the line gave no diagnostic."""
        if plan is None or len(plan[3]) >= MAX_PLANS or self._unrepeatable(plan[4]):
            # Not reusable, or a line with many distinct values (indexed by a
            # loop variable): memory stays bounded when values never repeat.
            self._line(sl)
            return
        kept = plan[3]
        items = self.out.items
        start, diags = len(items), len(self.out.diagnostics)
        self._line(sl)
        if len(self.out.diagnostics) == diags:
            got = kept[key] = items[start:]
            for it in got:
                it.reuse = ITEM

    def _unrepeatable(self, names: frozenset[str]) -> bool:
        """Whether a line mentioning `names` is met with these values only once:
        it stands outside every loop and macro, or it meets new values at every
        iteration of the loops running (they are all `.for` loops and it uses
        every one's variable, as a debug key such as (round, i) does). Its items
        are not kept: they could recur only if the whole nest ran again."""
        loops = self.loops
        if not loops:
            return self.depth == 0
        loop_vars = self.loop_vars
        return len(loop_vars) == len(loops) and loop_vars <= names

    def _reusable(self, sl: SrcLine) -> tuple[str, ...] | None:
        """The names a line's items depend on, or None if expanding it does more
        than emit items (defines, calls, includes, reports)."""
        names: list[str] = []
        for s in sl.line.stmts:
            if type(s) is Assign or s.name in self.out.macros or s.name in _DIRECTIVES:
                return None
            names.extend(_names_of(s))
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
                elif s.name in _DIRECTIVES:
                    _DIRECTIVES[s.name](self, sl, s)
                else:
                    folded = self.fold_stmt(src, s)
                    items.append(Item("stmt", folded, src, s.pos, STMT if folded is s else NEW))
            except ExpandError:
                pass
        if line.close is not None:
            items.append(Item("close", None, src, line.close))
        if len(items) > MAX_ITEMS:
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

    def define(self, src: Src, name: str, value: Node, where) -> None:
        if name in BUILTINS:
            raise self.fail(src, f"'{name}' is built in and cannot be redefined", where)
        if name in self.loop_vars:
            raise self.fail(src, f"'{name}' is a loop variable here and cannot be redefined",
                            where)
        env = self.out.env
        try:
            folded = fold(value, env)
        except ExprError as e:
            raise self.fail(src, e.message, e.pos) from None
        if type(folded) is not int:
            bad = None
            if any(n.id == name for n in names(folded)):
                bad = self._cycle(src, name, value, where)
            elif depth(folded) > MAX_EXPR_DEPTH:
                bad = self.fail(src, f"the value of '{name}', with the constants it names "
                                f"written out, nests more than {MAX_EXPR_DEPTH} levels deep: "
                                "is this a long chain of definitions waiting on a label?", value)
            if bad is not None:
                # Reported once: its uses read 0 rather than each saying it again
                # (and, with no site recorded, resolution passes over them too).
                env[name] = 0
                self.out.equ_sites.pop(name, None)
                raise bad
        if type(folded) is not int:
            for n in names(value):  # names this line's .equ reads that nothing has set yet
                if n.id not in env:
                    self.early.setdefault(n.id, src.loc(n.pos))
        env[name] = folded
        site = self.out.equ_sites[name] = src.loc(where.pos)
        used = self.early.pop(name, None)
        if used is not None:
            # The .equ that used it was folded without it: an error there, once
            # (resolution passes over the name, having no site for it).
            del self.out.equ_sites[name]
            self.out.diagnostics.append(Diagnostic(
                f"'{name}' is used before its .equ: set it above its first use",
                location=used, notes=(Note(f"'{name}' is set here", site),)))

    def _cycle(self, src: Src, name: str, value: Node, where: Node) -> ExpandError:
        """'X' defined (through others still open) in terms of itself: the
        error names each definition on the way."""
        notes: list[Note] = []
        for other in dict.fromkeys(n.id for n in names(value)):
            if other == name or other not in self.out.equ_sites:
                continue
            if any(n.id == name for n in names(self.out.env[other])):
                notes.append(Note(f"'{other}' is defined here, in terms of '{name}'",
                                  self.out.equ_sites[other]))
        self.error(src, f"'{name}' is defined in terms of itself", where, notes=tuple(notes))
        return ExpandError()

    # ------------------------------------------------------------ blocks

    def block(self, lines: list[SrcLine], i: int) -> int:
        """Expand the block opening at line i; return the index after it."""
        sl = lines[i]
        s = sl.line.stmts[0]
        if s.name not in BLOCKS:
            opener = ".if" if s.name in (".endif", ".else", ".elif") else _CLOSERS[s.name]
            self.error(sl.src, f"'{s.name}' without a matching '{opener}'", s)
            return i + 1
        if (sl.line.label is not None or sl.line.open is not None or sl.line.close is not None
                or len(sl.line.stmts) > 1):
            self.error(sl.src, f"'{s.name}' must stand alone on its line", s)
        end, splits = self._find_end(lines, i)
        if end is None:
            self.error(sl.src, f"'{s.name}' without a matching '{BLOCKS[s.name]}'", s)
            return len(lines)
        body = lines[i + 1:end]
        if self.nesting >= MAX_NESTING:
            # Said once: every block inside would say it again.
            self.halted = True
            self.error(sl.src, f"blocks nested more than {MAX_NESTING} deep (counting those "
                       "of the macros and includes that lead here)", s)
            return len(lines)
        self.nesting += 1
        try:
            if s.name == ".macro":
                self.define_macro(sl, s, body)
            elif s.name == ".rept":
                self.rept(sl, s, body)
            elif s.name == ".for":
                self.for_loop(sl, s, body)
            else:
                self.conditional(sl, s, lines, i, end, splits)
        except ExpandError:
            pass
        finally:
            self.nesting -= 1
        return end + 1

    @staticmethod
    def _find_end(lines: list[SrcLine], i: int) -> tuple[int | None, list[int]]:
        opener = lines[i].line.stmts[0].name
        closer = BLOCKS[opener]
        same = {k for k, v in BLOCKS.items() if v == closer}
        depth = 0
        splits: list[int] = []
        for j in range(i + 1, len(lines)):
            stmts = lines[j].line.stmts
            if not stmts or type(stmts[0]) is not Stmt:
                continue
            name = stmts[0].name
            if name in same:
                depth += 1
            elif name == closer:
                if depth == 0:
                    return j, splits
                depth -= 1
            elif depth == 0 and closer == ".endif" and name in (".else", ".elif"):
                splits.append(j)
        return None, splits

    def conditional(self, sl: SrcLine, s: Stmt, lines: list[SrcLine], i: int, end: int,
                    splits: list[int]) -> None:
        bounds = [i, *splits, end]
        for k in range(len(bounds) - 1):
            head = lines[bounds[k]]
            hs = head.line.stmts[0]
            if hs.name == ".else":
                if k != len(bounds) - 2:
                    raise self.fail(head.src, "'.else' must be the last branch of '.if'", hs)
                taken = True
            else:
                taken = self.condition(head.src, hs)
            if taken:
                self.run(lines[bounds[k] + 1:bounds[k + 1]])
                return

    def condition(self, src: Src, s: Stmt) -> bool:
        if s.name in (".ifdef", ".ifndef"):
            if len(s.args) != 1 or type(s.args[0]) is not Name:
                raise self.fail(src, f"'{s.name}' takes one name", s)
            known = s.args[0].id in self.out.env or s.args[0].id in self.out.macros
            return known == (s.name == ".ifdef")
        if len(s.args) != 1:
            raise self.fail(src, f"'{s.name}' takes one expression", s)
        return self.constant(src, s.args[0], f"the condition of '{s.name}'") != 0

    def define_macro(self, sl: SrcLine, s: Stmt, body: list[SrcLine]) -> None:
        if not s.args or type(s.args[0]) is not Name:
            raise self.fail(sl.src, "'.macro' needs a name: .macro NAME [ARG, ...]", s)
        # `.macro name a, b` parses as one argument `name a`? No: NAME args, so
        # the macro's name is the first argument and its parameters follow.
        name = s.args[0].id
        params: list[str] = []
        defaults: dict[str, str] = {}
        for a in s.args[1:]:
            if type(a) is Name:
                params.append(a.id)
            elif type(a) is KeyVal:
                params.append(a.name.id)
                defaults[a.name.id] = _text(sl, a.value)
            else:
                raise self.fail(sl.src, "macro parameters are names (with an optional "
                                "'= default')", a)
        if isa.BY_MNEMONIC.get(name) is not None or name in _DIRECTIVES or name in BLOCKS:
            raise self.fail(sl.src, f"a macro cannot be called '{name}': that is an op or a "
                            "directive", s.args[0])
        if len(set(params)) != len(params):
            raise self.fail(sl.src, f"macro '{name}' repeats a parameter name", s)
        unique = any("{@}" in b.text for b in body)
        self.out.macros[name] = Macro(name, params, defaults, body, sl.src, unique)

    def rept(self, sl: SrcLine, s: Stmt, body: list[SrcLine]) -> None:
        if len(s.args) != 1:
            raise self.fail(sl.src, "'.rept' takes one count: .rept N", s)
        count = self.constant(sl.src, s.args[0], "the count of '.rept'")
        if count < 0:
            raise self.fail(sl.src, f"'.rept' count {count} is negative", s.args[0])
        self.loops.append((sl, s))
        try:
            for _ in range(count):
                self.spend(sl, s)
                self.run(body)
        finally:
            self.loops.pop()

    def spend(self, sl: SrcLine, s: Stmt) -> None:
        """One more loop iteration: a runaway count stops here, with an error,
        before the expansion eats the machine's memory or time."""
        self.iterations += 1
        if self.iterations > MAX_ITERATIONS or len(self.out.items) > MAX_ITEMS:
            raise self.runaway(sl, s)

    def runaway(self, sl: SrcLine, s: Stmt | None) -> ExpandError:
        """Stop expanding for good, with one error: at the outermost loop's
        count when a loop is running (the likeliest mistake), else at the line."""
        self.halted = True
        if self.loops:
            sl, s = self.loops[0]
        if s is None:
            return self.fail(sl.src, f"the expansion is too large (over {MAX_ITEMS:,} "
                             "statements)")
        return self.fail(sl.src, f"the expansion is too large (over {MAX_ITEMS:,} statements "
                         f"or {MAX_ITERATIONS:,} loop iterations): is this count right?",
                         s.args[0] if s.args else s)

    def for_loop(self, sl: SrcLine, s: Stmt, body: list[SrcLine]) -> None:
        if not s.args or type(s.args[0]) is not KeyVal or len(s.args) not in (2, 3):
            raise self.fail(sl.src, "'.for' reads: .for VAR = FROM, TO[, STEP] (TO exclusive)",
                            s)
        var = s.args[0].name.id
        start = self.constant(sl.src, s.args[0].value, "the start of '.for'")
        stop = self.constant(sl.src, s.args[1], "the end of '.for'")
        step = self.constant(sl.src, s.args[2], "the step of '.for'") if len(s.args) == 3 else 1
        if step == 0:
            raise self.fail(sl.src, "'.for' step is zero", s.args[2])
        if var in self.loop_vars:
            raise self.fail(sl.src, f"loop variable '{var}' is already in use by an outer loop",
                            s.args[0].name)
        env = self.out.env
        saved = env.get(var)
        uses_text = any(_PLACEHOLDER.search(b.text) for b in body)
        self.loop_vars.add(var)
        self.loops.append((sl, s))
        try:
            for value in range(start, stop, step):
                self.spend(sl, s)
                env[var] = value
                self.run(self.substitute(body, {var: str(value)}, ()) if uses_text else body)
        finally:
            self.loops.pop()
            self.loop_vars.discard(var)
            if saved is None:
                env.pop(var, None)
            else:
                env[var] = saved

    # ------------------------------------------------------------ macros

    def call(self, sl: SrcLine, s: Stmt) -> None:
        m = self.out.macros[s.name]
        self.macro_calls += 1
        if self.macro_calls > MAX_CALLS:
            self.halted = True
            raise self.fail(sl.src, f"more than {MAX_CALLS:,} macro calls: does '{m.name}' "
                            "call itself (or another macro that calls it back)?", s)
        if self.depth >= MAX_DEPTH:
            # A recursion: every other call of it would say the same, many times
            # over. One report, and the expansion stops.
            self.halted = True
            raise self.fail(sl.src, f"macro calls nested more than {MAX_DEPTH} deep "
                            f"(does '{m.name}' call itself?)", s)
        # A call statement met again (in a loop) binds the same text: reuse its body.
        known = self.calls.get((id(sl), id(s)))
        if known is not None and known[1] is m and not m.unique:
            self.counter += 1
            body = known[3]
        else:
            body = self.bind(sl, s, m)
        self.depth += 1
        try:
            self.run(body)
        finally:
            self.depth -= 1

    def bind(self, sl: SrcLine, s: Stmt, m: Macro) -> list[SrcLine]:
        """The body of macro `m` with the arguments of call `s` substituted."""
        src = sl.src
        bound: dict[str, str] = {}
        positional = [a for a in s.args if type(a) is not KeyVal]
        if len(positional) > len(m.params):
            raise self.fail(src, f"macro '{m.name}' takes {len(m.params)} argument"
                            f"{'s' * (len(m.params) != 1)}, got {len(positional)}",
                            positional[len(m.params)])
        for p, a in zip(m.params, positional, strict=False):
            bound[p] = _text(sl, a)
        for a in s.args:
            if type(a) is KeyVal:
                if a.name.id not in m.params:
                    raise self.fail(src, f"macro '{m.name}' has no parameter "
                                    f"'{a.name.id}'", a.name)
                bound[a.name.id] = _text(sl, a.value)
        for p in m.params:
            if p not in bound:
                if p not in m.defaults:
                    raise self.fail(src, f"macro '{m.name}' needs argument '{p}'", s)
                bound[p] = m.defaults[p]
        self.counter += 1
        note = Note(f"in expansion of macro '{m.name}'", src.loc(s.pos))
        if m.unique:
            bound["@"] = str(self.counter)
            return self.substitute(m.body, bound, (note, *src.chain))
        # The same call expands to the same lines: reuse them.
        key = (id(m), tuple(bound.values()), note, src.chain)
        body = self.substituted.get(key)
        if body is None:
            body = self.substituted[key] = self.substitute(m.body, bound, (note, *src.chain))
        self.calls[(id(sl), id(s))] = (sl, m, s, body)
        return body

    def substitute(self, body: list[SrcLine], bound: Mapping[str, str],
                   chain: tuple[Note, ...]) -> list[SrcLine]:
        out = []
        for b in body:
            src = b.src
            new_chain = (*chain, *src.chain)
            text, colmap = _replace(b.text, src, bound)
            if text is None:
                out.append(SrcLine(b.line, Src(src.file, src.lineno, src.text, src.colmap,
                                               new_chain), b.text))
                continue
            new_src = Src(src.file, src.lineno, text, colmap, new_chain)
            lines = self.reparsed.get(text)
            if lines is None:
                try:
                    lines = parse_line(text, src.file, src.lineno)
                except Diagnostic as e:
                    col = e.location.col if e.location and e.location.col else 1
                    self.out.diagnostics.append(new_src.error(e.message, col - 1))
                    lines = []
                self.reparsed[text] = lines
            out.extend(SrcLine(ln, new_src, text) for ln in lines)
        return out

    # ------------------------------------------------------------ includes

    def include(self, sl: SrcLine, s: Stmt) -> None:
        if len(s.args) != 1 or type(s.args[0]) is not Str:
            raise self.fail(sl.src, "'.include' takes a file name in double quotes", s)
        name = s.args[0].value
        here = os.path.dirname(sl.src.file) if sl.src.file else "."
        candidates = [os.path.join(here, name), *(os.path.join(d, name)
                                                  for d in self.include_paths)]
        path = next((c for c in candidates if os.path.isfile(c)), None)
        if path is None:
            there = next((c for c in candidates if os.path.exists(c)), None)
            if there is not None:  # found, but nothing .include can read
                what = ("a directory" if os.path.isdir(there) else
                        "not a regular file (a device, pipe or socket)")
                raise self.fail(sl.src, f"include file '{name}' is {what}", s.args[0])
            searched = ", ".join(dict.fromkeys([here or ".", *self.include_paths]))
            raise self.fail(sl.src, f"cannot find include file '{name}' (searched {searched})",
                            s.args[0])
        path = os.path.normpath(path)
        chain = (Note(INCLUDED_FROM, sl.src.loc(s.pos)), *sl.src.chain)
        including = {n.location.file for n in chain if n.message == INCLUDED_FROM}
        if (len(chain) > MAX_DEPTH or path in including
                or path == os.path.normpath(sl.src.file or "")):
            raise self.fail(sl.src, f"'{name}' includes itself", s.args[0])
        try:
            text = self.sources.read(path)
        except (OSError, UnicodeDecodeError) as e:
            raise self.fail(sl.src, f"cannot read include file '{name}': {e}", s.args[0]) \
                from None
        self.depth += 1
        try:
            self.run(file_lines(text, path, chain, self.out.diagnostics))
        finally:
            self.depth -= 1

    def directive_equ(self, sl: SrcLine, s: Stmt) -> None:
        if len(s.args) != 2 or type(s.args[0]) is not Name:
            raise self.fail(sl.src, "'.equ' reads: .equ NAME, EXPR", s)
        self.define(sl.src, s.args[0].id, s.args[1], s.args[0])

    def directive_message(self, sl: SrcLine, s: Stmt) -> None:
        if len(s.args) != 1 or type(s.args[0]) is not Str:
            raise self.fail(sl.src, f"'{s.name}' takes a message in double quotes", s)
        self.error(sl.src, s.args[0].value, s,
                   severity="warning" if s.name == ".warning" else "error")


def _constant_key(a: Tup, env: dict[str, Value]) -> Key | None:
    """A debug key of numbers, strings and names bound to numbers (the loop
    variables of `(round, i, "val")`) as its value; None for anything else,
    which fold_arg folds."""
    values = []
    for x in a.items:
        tx = type(x)
        if tx is Name:
            v = env.get(x.id)
            if type(v) is not int:
                return None
            values.append(v)
        elif tx is Num or tx is Str:
            values.append(x.value)
        else:
            return None
    return Key(tuple(values), a.pos, a.end)


def _names_of(s: Stmt) -> tuple[str, ...]:
    """Every name a statement's expressions mention (candidates for folding)."""
    found: list[str] = []
    for a in s.args:
        _walk_names(a, found)
    if s.pin is not None:
        _walk_names(s.pin, found)
    return tuple(dict.fromkeys(found))


def _walk_names(n, found: list[str]) -> None:
    # A module function, not a closure: a closure calling itself is a reference
    # cycle, left for the collector on every call.
    t = type(n)
    if t is Name:
        found.append(n.id)
    elif t is Indexed:
        _walk_names(n.index, found)
    elif t is Raw:
        _walk_names(n.addr, found)
    elif t is KeyVal:
        _walk_names(n.value, found)
    elif isinstance(n, Tup):
        for x in n.items:
            _walk_names(x, found)
    else:
        for attr in ("a", "b"):
            child = getattr(n, attr, None)
            if child is not None:
                _walk_names(child, found)


def _text(sl: SrcLine, node: Node) -> str:
    """The source text of a node (a macro argument as written)."""
    return sl.text[node.pos:node.end]


def _replace(text: str, src: Src, bound: Mapping[str, str]
             ) -> tuple[str | None, tuple[int, ...] | None]:
    """Substitute bound {NAME}s; (None, None) when nothing is bound here."""
    if "{" not in text:
        return None, None
    parts: list[str] = []
    cols: list[int] = []
    old = src.colmap or tuple(range(1, len(text) + 1))
    last = 0
    changed = False
    for m in _PLACEHOLDER.finditer(text):
        value = bound.get(m.group(1))
        if value is None:
            continue
        changed = True
        parts.append(text[last:m.start()])
        cols.extend(old[last:m.start()])
        parts.append(value)
        cols.extend([old[m.start()] if m.start() < len(old) else len(old)] * len(value))
        last = m.end()
    if not changed:
        return None, None
    parts.append(text[last:])
    cols.extend(old[last:])
    cols.append(cols[-1] + 1 if cols else 1)  # the end of the line
    return "".join(parts), tuple(cols)


_DIRECTIVES = {
    ".include": Expander.include,
    ".equ": Expander.directive_equ,
    ".error": Expander.directive_message,
    ".warning": Expander.directive_message,
}


def expand(lines: list[SrcLine], sources: Sources, *, include_paths: tuple[str, ...] = (),
           defines: Mapping[str, int] | None = None) -> Expansion:
    """Expand parsed lines into items; diagnostics are collected, not raised."""
    ex = Expander(sources, include_paths, defines)
    ex.run(lines)
    ex.out.halted = ex.halted
    return ex.out
