"""The directives expansion carries out: `.equ` (and `NAME = EXPR`),
`.include`, `.error` and `.warning`."""

from __future__ import annotations

import os

from ...errors import Diagnostic, Note
from ...fileio import read_problem
from ...source import Src
from ...tree import Name, Node, Stmt, Str, depth
from ..expr import ExprError, fold, names
from ..syntax import MAX_DEPTH as MAX_EXPR_DEPTH
from .model import BUILTINS, INCLUDED_FROM, MAX_DEPTH, ExpandError, Fresh, SrcLine, file_lines


class DirectiveExpansion:
    """Part of `Expander` (asm/stages/expand/__init__.py), which holds the state these
    methods read: the environment, the output, the loops running."""

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
                self.equ_places.pop(name, None)
                raise bad
        if type(folded) is not int:
            for n in names(value):  # names this line's .equ reads that nothing has set yet
                if n.id not in env:
                    self.early.setdefault(n.id, src.loc(n.pos))
        env[name] = folded
        # (where, as a Location only at the end: a name set in a loop is set
        # again and again, and a substituted line's columns cost to work out)
        self.equ_places[name] = (src, where.pos)
        used = self.early.pop(name, None)
        if used is not None:
            # The .equ that used it was folded without it: an error there, once
            # (resolution passes over the name, having no site for it).
            del self.equ_places[name]
            self.out.diagnostics.append(Diagnostic(
                f"'{name}' is used before its .equ: set it above its first use",
                location=used, notes=(Note(f"'{name}' is set here", src.loc(where.pos)),)))

    def _cycle(self, src: Src, name: str, value: Node, where: Node) -> ExpandError:
        """'X' defined (through others still open) in terms of itself: the
        error names each definition on the way."""
        notes: list[Note] = []
        for other in dict.fromkeys(n.id for n in names(value)):
            if other == name or other not in self.equ_places:
                continue
            if any(n.id == name for n in names(self.out.env[other])):
                other_src, pos = self.equ_places[other]
                notes.append(Note(f"'{other}' is defined here, in terms of '{name}'",
                                  other_src.loc(pos)))
        self.error(src, f"'{name}' is defined in terms of itself", where, notes=tuple(notes))
        return ExpandError()

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
            raise self.fail(sl.src, f"cannot read include file '{name}': {read_problem(e)}",
                            s.args[0]) from None
        self.depth += 1
        try:
            self.run(Fresh(file_lines(text, path, chain, self.out.diagnostics)))
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


# Directive -> the method that carries it out.
DIRECTIVES = {
    ".include": DirectiveExpansion.include,
    ".equ": DirectiveExpansion.directive_equ,
    ".error": DirectiveExpansion.directive_message,
    ".warning": DirectiveExpansion.directive_message,
}
