"""Macros: definitions, calls, and the substitution of `{NAME}` and `{@}` in
the text of macro and loop bodies (the rewritten line's parse made from the
body line's, see treesubst.py, or else parsed again; lines that differ only
in their numbers share one parse, see parsecache.Shapes)."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from ... import isa
from ...errors import Diagnostic, Note
from ...source import ColMap, Src
from ...tree import KeyVal, Name, Node, Stmt
from ..syntax import parse_line

# (limits read at use, so that tests can lower them)
from . import model as limits
from .directives import DIRECTIVES
from .model import BLOCKS, MAX_DEPTH, Fresh, Macro, SrcLine
from .treesubst import substituted_line

# A substitution in a macro or loop body: {NAME} or {@}.
PLACEHOLDER = re.compile(r"\{(@|[A-Za-z_.$][A-Za-z0-9_.$]*)\}")


class MacroExpansion:
    """Part of `Expander` (asm/stages/expand/__init__.py), which holds the state these
    methods read: the environment, the output, the loops running."""

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
        if isa.BY_MNEMONIC.get(name) is not None or name in DIRECTIVES or name in BLOCKS:
            raise self.fail(sl.src, f"a macro cannot be called '{name}': that is an op or a "
                            "directive", s.args[0])
        if len(set(params)) != len(params):
            raise self.fail(sl.src, f"macro '{name}' repeats a parameter name", s)
        unique = any("{@}" in b.text for b in body)
        self.out.macros[name] = Macro(name, params, defaults, body, sl.src, unique)
        self.macro_version += 1  # (a macro defined again leaves their number as it was)

    def call(self, sl: SrcLine, s: Stmt) -> None:
        m = self.out.macros[s.name]
        self.macro_calls += 1
        if self.macro_calls > limits.MAX_CALLS:
            self.halted = True
            raise self.fail(sl.src, f"more than {limits.MAX_CALLS:,} macro calls: does '{m.name}' "
                            "call itself (or another macro that calls it back)?", s)
        if self.depth >= MAX_DEPTH:
            # A recursion: every other call of it would say the same, many times
            # over. One report, and the expansion stops.
            self.halted = True
            raise self.fail(sl.src, f"macro calls nested more than {MAX_DEPTH} deep "
                            f"(does '{m.name}' call itself?)", s)
        # A call statement met again (in a loop) binds the same text: reuse its
        # body (the line's number and the statement's place in it name it).
        calls = self.reuse.calls
        key = (self.reuse.ident(sl), s.pos)
        known = calls.get(key)
        if known is not None and known[0] is m:
            self.counter += 1
            body = known[1]
        else:
            errors = len(self.out.diagnostics)
            body = self.bind(sl, s, m)
            if not m.unique and len(self.out.diagnostics) == errors:
                calls[key] = (m, body)
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
            return Fresh(self.substitute(m.body, bound, (note, *src.chain)))
        # The same call expands to the same lines: reuse them (unless
        # substituting them was an error, which every assembly must report).
        key = (m.key, tuple(bound.values()), note, src.chain)
        bodies = self.reuse.bodies
        body = bodies.get(key)
        if body is None:
            errors = len(self.out.diagnostics)
            body = self.substitute(m.body, bound, (note, *src.chain))
            if len(self.out.diagnostics) == errors:
                bodies[key] = body
            else:
                body = Fresh(body)
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
            lines = self.reuse.parsed.get(text)
            if lines is None:
                try:
                    filled = substituted_line(b.line, b.text, text, colmap.spans)
                    lines = [filled] if filled is not None else self.reuse.shapes.parse(text)
                    if lines is None:
                        lines = parse_line(text, src.file, src.lineno)
                    self.reuse.parsed[text] = lines
                except Diagnostic as e:  # (not kept: a later assembly reports it too)
                    col = e.location.col if e.location and e.location.col else 1
                    self.out.diagnostics.append(new_src.error(e.message, col - 1))
                    lines = []
            out.extend(SrcLine(ln, new_src, text) for ln in lines)
        return out


def _text(sl: SrcLine, node: Node) -> str:
    """The source text of a node (a macro argument as written)."""
    return sl.text[node.pos:node.end]


@functools.lru_cache(maxsize=4096)
def _placeholders(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, name) of each {NAME} in a body line (its text is the key:
    a body line is substituted again at every call)."""
    return tuple((m.start(), m.end(), m.group(1)) for m in PLACEHOLDER.finditer(text))


def _replace(text: str, src: Src, bound: Mapping[str, str]
             ) -> tuple[str | None, ColMap | None]:
    """Substitute bound {NAME}s; (None, None) when nothing is bound here."""
    if "{" not in text:
        return None, None
    parts: list[str] = []
    spans: list[tuple[int, int, int]] = []
    last = 0
    for start, end, name in _placeholders(text):
        value = bound.get(name)
        if value is None:
            continue
        parts.append(text[last:start])
        parts.append(value)
        spans.append((start, end, len(value)))
        last = end
    if not spans:
        return None, None
    parts.append(text[last:])
    return "".join(parts), ColMap(src.colmap, len(text), tuple(spans))
