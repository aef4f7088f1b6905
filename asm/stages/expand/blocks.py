"""Expanding blocks: conditionals, `.rept` and `.for` loops (and finding where
each block ends); a `.macro` block is handed to macros.py."""

from __future__ import annotations

from ...source import Src
from ...tree import KeyVal, Name, Stmt

# (limits read at use, so that tests can lower them)
from . import model as limits
from .macros import PLACEHOLDER
from .model import BLOCKS, CLOSERS, MAX_NESTING, ExpandError, Fresh, SrcLine


class BlockExpansion:
    """Part of `Expander` (asm/stages/expand/__init__.py), which holds the state these
    methods read: the environment, the output, the loops running."""

    def block(self, lines: list[SrcLine], i: int) -> int:
        """Expand the block opening at line i; return the index after it."""
        sl = lines[i]
        s = sl.line.stmts[0]
        if s.name not in BLOCKS:
            opener = ".if" if s.name in (".endif", ".else", ".elif") else CLOSERS[s.name]
            self.error(sl.src, f"'{s.name}' without a matching '{opener}'", s)
            return i + 1
        if (sl.line.label is not None or sl.line.open is not None or sl.line.close is not None
                or len(sl.line.stmts) > 1):
            self.error(sl.src, f"'{s.name}' must stand alone on its line", s)
        end, splits = self._block_end(lines, i)
        if end is None:
            self.error(sl.src, f"'{s.name}' without a matching '{BLOCKS[s.name]}'", s)
            return len(lines)
        body = self._part(lines, i + 1, end)
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

    def _block_end(self, lines: list[SrcLine], i: int) -> tuple[int | None, list[int]]:
        """`_find_end`, found once per list of lines (a loop's or a macro's
        body runs its blocks again and again)."""
        if type(lines) is Fresh:
            return self._find_end(lines, i)
        found = self.block_ends.get((id(lines), i))
        if found is not None and found[0] is lines:
            return found[1], found[2]
        end, splits = self._find_end(lines, i)
        self.block_ends[id(lines), i] = (lines, end, splits)
        return end, splits

    def _part(self, lines: list[SrcLine], start: int, end: int) -> list[SrcLine]:
        """`lines[start:end]`, the same list whenever asked again of the same
        lines (so that the blocks inside are found once too)."""
        if type(lines) is Fresh:
            return Fresh(lines[start:end])
        found = self.block_parts.get((id(lines), start, end))
        if found is not None and found[0] is lines:
            return found[1]
        part = lines[start:end]
        self.block_parts[id(lines), start, end] = (lines, part)
        return part

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
                self.run(self._part(lines, bounds[k] + 1, bounds[k + 1]))
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

    def rept(self, sl: SrcLine, s: Stmt, body: list[SrcLine]) -> None:
        if len(s.args) != 1:
            raise self.fail(sl.src, "'.rept' takes one count: .rept N", s)
        count = self.constant(sl.src, s.args[0], "the count of '.rept'")
        if count < 0:
            raise self.fail(sl.src, f"'.rept' count {count} is negative", s.args[0])
        if not body:  # nothing to repeat: only the count is spent, at once
            self.spend(sl, s, count)
            return
        self.loops.append((sl, s))
        outer, self.nest = self.nest, object()
        rec = self.recording(body)
        try:
            for _ in range(count):
                self.spend(sl, s)
                if rec is None:
                    self.run(body)
                else:
                    self.iteration(rec)
        finally:
            self.loops.pop()
            self.nest = outer

    def spend(self, sl: SrcLine, s: Stmt, iterations: int = 1) -> None:
        """One more loop iteration (or several): a runaway count stops here,
        with an error, before the expansion eats the machine's memory or time."""
        self.iterations += iterations
        if self.iterations > limits.MAX_ITERATIONS or len(self.out.items) > limits.MAX_ITEMS:
            raise self.runaway(sl, s)

    def runaway(self, sl: SrcLine, s: Stmt | None) -> ExpandError:
        """Stop expanding for good, with one error: at the outermost loop's
        count when a loop is running (the likeliest mistake), else at the line."""
        self.halted = True
        if self.loops:
            sl, s = self.loops[0]
        if s is None:
            return self.fail(sl.src, f"the expansion is too large (over {limits.MAX_ITEMS:,} "
                             "statements)")
        return self.fail(sl.src, f"the expansion is too large (over {limits.MAX_ITEMS:,} "
                         f"statements or {limits.MAX_ITERATIONS:,} loop iterations): is this "
                         "count right?",
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
        if not body:  # nothing to repeat: only the count is spent, at once
            self.spend(sl, s, len(range(start, stop, step)))
            return
        env = self.out.env
        saved = env.get(var)
        uses_text = any(PLACEHOLDER.search(b.text) for b in body)
        self.loop_vars.add(var)
        self.loops.append((sl, s))
        outer, self.nest = self.nest, object()
        try:
            rec = None if uses_text else self.recording(body)
            for value in range(start, stop, step):
                self.spend(sl, s)
                env[var] = value
                if uses_text:
                    self.run(Fresh(self.substitute(body, {var: str(value)}, ())))
                elif rec is None:
                    self.run(body)
                else:
                    self.iteration(rec)
        finally:
            self.loops.pop()
            self.nest = outer
            self.loop_vars.discard(var)
            if saved is None:
                env.pop(var, None)
            else:
                env[var] = saved
