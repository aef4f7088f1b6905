"""`vemu debug`'s prompt: gdb's commands, spelled as gdb spells them, over a
Session.

At a terminal, lines are edited with readline, Enter repeats the last
running or looking command (`step`, `continue`, `x` goes on from where it
stopped), and Ctrl-C stops a run or clears the line. From a pipe, commands
run one per line and empty lines do nothing, as in a gdb command file.
"""

from __future__ import annotations

import cmd
import contextlib
import os
import re
import sys
from typing import TextIO

from asm.diagnostics import printable
from asm.kernel import Kernel
from asm.suggestions import plural

from ..limits import DEFAULT_MAX_CYCLES
from ..trace import SlotNames, SourceLines
from .errors import DebugError
from .locations import Locations
from .session import Session
from .values import Place, parse_number, split_format
from .views import (
    bundle_lines,
    last_bundle_lines,
    memory_lines,
    pcs_text,
    register_lines,
    stop_lines,
    words_text,
)

# (topic, [(usage, what it does)]): `help` prints this, docs/emulator.md has
# the same table, and a test keeps the two and the commands in step.
HELP: list[tuple[str, list[tuple[str, str]]]] = [
    ("Running", [
        ("run (r)", "start again from cycle 0 and run to the next stop"),
        ("restart", "start again from cycle 0 and stop in front of pc 0"),
        ("step [N] (s, next, n)", "run N bundles (default 1)"),
        ("continue (c)", "run to a breakpoint, a watch, a fault, Ctrl-C, the cycle limit "
                         "or the end"),
        ("until WHERE (u, advance)", "run to WHERE (once; breakpoints still stop)"),
        ("finish (fin)", "run out of this macro expansion or loop iteration "
                         "(the innermost), or to the end of this block"),
    ]),
    ("Stopping", [
        ("break WHERE (b)", "stop in front of WHERE"),
        ("tbreak WHERE", "stop in front of WHERE once, then forget it"),
        ("watch WHAT", "stop when a word of WHAT changes"),
        ("delete [N ...] (d)", "forget breakpoints and watches (all of them without N)"),
    ]),
    ("Looking", [
        ("print[/F] WHAT (p)", "scratch or memory words (vectors as rows of 8 lanes)"),
        ("display[/F] WHAT", "print WHAT at every stop (alone: show them all now)"),
        ("undisplay [N ...]", "stop displaying (all of them without N)"),
        ("x[/N][F] ADDR", "N memory words (default 8) from ADDR: a number, or a scratch "
                          "word holding the address"),
        ("list [WHERE] (l)", "source lines around the line running (or WHERE); again: "
                             "the next ones"),
        ("backtrace (bt, where)", "the source line and the macro calls and includes that "
                                  "made the bundle in front of you"),
        ("info WHAT (i)", "breakpoints, display, registers (named scratch words and "
                          "their values), bundle (the last bundle run), program, symbols, "
                          "labels, macros"),
    ]),
    ("Changing", [
        ("set var WHAT = VALUE", "write a scratch or memory word ({v0, v1, ...}: several)"),
        ("set max-cycles N", "stop a run at cycle N (0: never)"),
        ("help [COMMAND] (h)", "this list, or one command"),
        ("quit (q)", "leave (Ctrl-D too)"),
    ]),
]
PLACES = """\
WHERE  a source line (30, k.vasm:30; a line with no code moves to the next
       that has), a label, a macro (each expansion), or a pc (*12)
WHAT   a scratch symbol (vals), one word of it (vals[3]), a scratch address
       (@12), a memory word (mem[100]; mem[ptr]: at the address in ptr),
       $pc or $cycle
F      x hex, d signed, u unsigned (the default), t binary, o octal"""

# Enter repeats these (gdb repeats running and looking; not breaking or setting).
REPEATS = {"step", "continue", "until", "finish", "x", "list"}
LIST_LINES = 10  # source lines `list` shows, as gdb's
_ASSIGN = re.compile(r"(?P<what>[^=]+?)\s*=\s*(?P<value>.+)$")


class Debugger(cmd.Cmd):
    intro = "vemu debug: 'help' lists the commands; 'step', 'continue', 'quit'."
    prompt = "(vemu) "

    def __init__(self, kernel: Kernel, mem: list[int], *, stdin: TextIO | None = None,
                 stdout: TextIO | None = None, max_cycles: int | None = DEFAULT_MAX_CYCLES,
                 locations: Locations | None = None, interactive: bool | None = None) -> None:
        super().__init__(stdin=stdin, stdout=stdout)
        self.interactive = stdin is None if interactive is None else interactive
        self.use_rawinput = stdin is None
        self.kernel = kernel
        self.session = Session(kernel, mem, max_cycles=max_cycles)
        self.locations = locations or Locations(kernel)
        self.names = SlotNames(kernel)
        self.lines = SourceLines()
        self.next_x: tuple[int, int, str] | None = None  # where Enter after `x` goes on
        self.next_list: tuple[str, int] | None = None  # where `list` goes on
        self.repeating = False  # the command runs again for an empty line

    @property
    def state(self):
        return self.session.state

    # ------------------------------------------------------------ the loop

    def say(self, text: str = "") -> None:
        # Names and positions come from the kernel image: never raw to the terminal.
        self.stdout.write(printable(text) + "\n")

    def read_line(self) -> str | None:
        if self.use_rawinput:
            try:
                return input(self.prompt)
            except EOFError:
                self.say("quit")
                return None
        self.stdout.write(self.prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        return line.rstrip("\r\n") if line else None

    def cmdloop(self, intro: str | None = None) -> None:
        self.preloop()
        while True:
            try:
                line = self.read_line()
            except KeyboardInterrupt:  # at the prompt: a fresh line, as in gdb
                self.say("Quit")
                continue
            if line is None:
                break
            try:
                if self.onecmd(line):
                    break
            except KeyboardInterrupt:  # outside a run (which catches it itself)
                self.say("Quit")
            self.stdout.flush()

    def onecmd(self, line: str) -> bool:
        if not line.strip():
            if not self.interactive or not self.lastcmd:
                return False  # an empty line in a script does nothing, as in gdb
            line = self.lastcmd
            repeat = True
        else:
            repeat = False
        name, arg, line = self.parseline(line)
        if not name:
            return self.default(line)
        name = self.command(name)
        if name is None:
            return self.default(line)
        self.lastcmd = line if self.canonical(name) in REPEATS else ""
        self.repeating = repeat
        try:
            return bool(getattr(self, "do_" + name)(arg))
        except DebugError as e:
            self.say(f"error: {e}")
            return False

    def command(self, name: str) -> str | None:
        """A command by name, alias or unambiguous prefix (`cont`, `disp`)."""
        names = [n[3:] for n in self.get_names() if n.startswith("do_")]
        if name in names:
            return name
        found = {self.canonical(n) for n in names if n.startswith(name)}
        return found.pop() if len(found) == 1 else None

    def canonical(self, name: str) -> str:
        method = getattr(self, "do_" + name)
        return method.__name__[3:]

    def default(self, line: str) -> bool:
        self.say(f"error: unknown command {line.split()[0]!r}; 'help' lists them")
        return False

    def preloop(self) -> None:
        if self.intro:
            self.say(self.intro)
            self.intro = None
        self.show_bundle(self.state.pc)

    # ------------------------------------------------------------ showing

    def show_bundle(self, pc: int) -> None:
        cycle = self.state.cycle if pc == self.state.pc else None
        for line in bundle_lines(self.kernel, self.names, self.lines, pc, cycle):
            self.say(line)

    def stopped(self, messages: list[str]) -> None:
        self.next_list = None  # `list` starts again around where the run stopped
        for m in messages:
            self.say(m)
        if not self.session.done:
            self.show_bundle(self.state.pc)
        self.show_displays()

    def show_displays(self) -> None:
        for d in self.session.displays.values():
            try:
                self.say(f"{d.number}: " + self.printed(self.session.place(d.text), d.fmt))
            except DebugError as e:
                self.say(f"{d.number}: {d.text}: {e}")

    def printed(self, place: Place, fmt: str) -> str:
        return words_text(place, self.session.read(place), fmt)

    # ------------------------------------------------------------ running

    def do_step(self, arg: str) -> None:
        """step [N]: run N bundles (default 1) and show the next one. Breakpoints,
        watches and faults stop it early."""
        try:
            count = int(arg) if arg.strip() else 1
        except ValueError:
            raise DebugError(f"step takes a number of bundles, not {arg.strip()!r}") from None
        self.stopped(self.session.run(bundles=max(count, 1)))

    do_s = do_n = do_next = do_step

    def do_continue(self, arg: str) -> None:
        """continue: run until a breakpoint, a watch, a fault, Ctrl-C, the cycle limit
        or the end."""
        self.stopped(self.session.run())

    do_c = do_continue

    def do_until(self, arg: str) -> None:
        """until WHERE: run to WHERE (once); breakpoints and watches still stop it."""
        where = self.locations.resolve(arg)
        if where.note:
            self.say(f"note: {where.note}")
        self.stopped(self.session.run(until=where.pcs))

    do_u = do_advance = do_until

    def do_finish(self, arg: str) -> None:
        """finish: run out of the innermost macro expansion or loop iteration around
        this bundle (to the first bundle after the expansion; back at the loop's
        head, or out of it), or, outside both, to the end of its block. It says
        which."""
        if self.session.done:
            raise DebugError(self.session.ending())
        region = self.locations.region(self.state.pc)
        self.say(f"run to the end of this {region.kind}: {region.name}")
        self.stopped(self.session.run(region=region))

    do_fin = do_finish

    def do_run(self, arg: str) -> None:
        """run: start again from cycle 0 (memory as loaded; breakpoints, watches and
        displays stay) and run to the next stop."""
        self.session.restart()
        self.say("starting again from cycle 0")
        self.stopped(self.session.run())

    do_r = do_run

    def do_restart(self, arg: str) -> None:
        """restart: start again from cycle 0 and stop in front of pc 0."""
        self.session.restart()
        self.stopped(["starting again from cycle 0"])

    # ------------------------------------------------------------ stopping

    def do_break(self, arg: str, temporary: bool = False) -> None:
        """break WHERE: stop in front of WHERE: a source line (30, k.vasm:30), a label,
        a macro (each expansion) or a pc (*12)."""
        where = self.locations.resolve(arg)
        b = self.session.add_breakpoint(where, temporary=temporary)
        kind = "temporary breakpoint" if temporary else "breakpoint"
        self.say(f"{kind} {b.number} at {where.text}: {pcs_text(where.pcs)}")
        if where.note:
            self.say(f"note: {where.note}")

    do_b = do_break

    def do_tbreak(self, arg: str) -> None:
        """tbreak WHERE: like break, forgotten once it stops the run."""
        self.do_break(arg, temporary=True)

    def do_watch(self, arg: str) -> None:
        """watch WHAT: stop after a bundle that changes a word of WHAT (a symbol, one
        word of it, @N, mem[N])."""
        place = self.session.place(arg)
        if place.space == "register":
            raise DebugError(f"{place.text} changes every bundle; use step or break")
        w = self.session.add_watch(place)
        self.say(f"watch {w.number}: {place.text} ({plural(place.width, 'word')})")

    def do_delete(self, arg: str) -> None:
        """delete [N ...]: forget breakpoints and watches N, or all of them."""
        if not arg.strip():
            self.session.breakpoints.clear()
            self.session.watches.clear()
            self.say("all breakpoints and watches deleted")
            return
        self.session.delete(self.numbers(arg, "delete"))

    do_d = do_delete

    @staticmethod
    def numbers(arg: str, command: str) -> list[int]:
        words = arg.replace(",", " ").split()
        if not all(w.isdigit() for w in words):
            raise DebugError(f"{command} takes numbers ('info' lists them), not {arg.strip()!r}")
        return [int(w) for w in words]

    # ------------------------------------------------------------ looking

    def do_print(self, arg: str) -> None:
        """print[/F] WHAT: scratch or memory words; F is x, d, u, t or o."""
        fmt, count, rest = split_format(arg, "print")
        if count is not None:
            raise DebugError("print/F takes a format letter only; x/N reads N memory words")
        if not rest:
            raise DebugError("print WHAT: a symbol, symbol[i], @N, mem[N] or $pc")
        place = self.session.place(rest)
        self.say(self.printed(place, fmt))
        copies = self.copies(place)
        if copies:
            self.say(f"note: the scheduler renamed {place.text}: its copies {', '.join(copies)} "
                     "hold the values of some of its definitions")

    do_p = do_print

    def copies(self, place: Place) -> list[str]:
        """Names of the words the scheduler's renaming made from `place`'s."""
        if place.space != "scratch":
            return []
        end = place.address + place.width
        return [self.names.scratch(c, 1) for c, w in sorted(self.kernel.renamed.items())
                if place.address <= w < end]

    def do_display(self, arg: str) -> None:
        """display[/F] WHAT: print WHAT at every stop; without WHAT, show them all."""
        fmt, count, rest = split_format(arg, "display")
        if not rest:
            self.show_displays()
            return
        d = self.session.add_display(rest, fmt)
        self.say(f"{d.number}: " + self.printed(self.session.place(rest), fmt))

    def do_undisplay(self, arg: str) -> None:
        """undisplay [N ...]: stop displaying N, or everything."""
        displays = self.session.displays
        if not arg.strip():
            displays.clear()
            return
        numbers = self.numbers(arg, "undisplay")
        missing = [n for n in numbers if n not in displays]
        if missing:
            raise DebugError(f"no display {', '.join(map(str, missing))}")
        for n in numbers:
            del displays[n]

    def do_x(self, arg: str) -> None:
        """x[/N][F] ADDR: N memory words (default 8) from ADDR, a number or a scratch
        word holding the address (x/8 ptr). Enter shows the next N."""
        if self.repeating and self.next_x is not None:
            start, count, fmt = self.next_x
        else:
            fmt, count, rest = split_format(arg, "x")
            count = 8 if count is None else count
            if not rest:
                raise DebugError("x/N ADDR: a memory address, or a scratch word holding one")
            start = self.address(rest)
        self.memory_words(start, count, fmt)

    def address(self, text: str) -> int:
        if text.isdigit() or text.lower().startswith(("0x", "0b", "0o")):
            return parse_number(text)
        place = self.session.place(text)
        if place.space == "mem":
            return place.address
        if place.width != 1:
            raise DebugError(f"{text} has {place.width} words; x reads memory from the "
                             f"address in one of them ({text}[i])")
        return self.session.read(place)[0]

    def memory_words(self, start: int, count: int, fmt: str) -> None:
        size = len(self.state.mem)
        if not 0 <= start < size:
            raise DebugError(f"memory has {size} words (0..{size - 1}); {start} is outside")
        for line in memory_lines(self.state.mem, start, count, fmt):
            self.say(line)
        end = start + count
        self.next_x = (end, count, fmt) if end < size else None

    def do_mem(self, arg: str) -> None:
        """mem START [COUNT]: the same as x/COUNT START."""
        parts = arg.split()
        if not 1 <= len(parts) <= 2 or not all(p.isdigit() for p in parts):
            raise DebugError("mem START [COUNT]")
        self.memory_words(int(parts[0]), int(parts[1]) if len(parts) > 1 else 8, "u")

    def do_list(self, arg: str) -> None:
        """list [WHERE]: ten source lines around the line the next bundle comes from
        (or around WHERE); list again, or Enter, shows the ten after them. Without
        a source map, the bundle's ops."""
        if not arg.strip() and self.next_list is not None:
            file, first = self.next_list
        else:
            found = self.source_at(arg)
            if found is None:
                pc = self.state.pc if not arg.strip() else min(self.locations.resolve(arg).pcs)
                self.say("(no source map: the bundle's ops)")
                self.show_bundle(pc)
                return
            file, line = found
            first = max(1, line - LIST_LINES // 2)
        lines = self.lines.of(file)
        if lines is None:
            raise DebugError(f"cannot read {file}")
        if lines and lines[-1] == "":
            lines = lines[:-1]
        if first > len(lines):
            raise DebugError(f"line {first} is past the end of {file} ({len(lines)} lines)")
        last = min(len(lines), first + LIST_LINES - 1)
        here = self.source_at("")
        for n in range(first, last + 1):
            mark = "=>" if here == (file, n) else "  "
            self.say(f"{mark}{n:>6}  {lines[n - 1]}")
        self.next_list = (file, last + 1) if last < len(lines) else None

    do_l = do_list

    def source_at(self, arg: str) -> tuple[str, int] | None:
        """(file, line) of WHERE, or of the bundle that runs next; None without
        a source map."""
        if arg.strip():
            where = self.locations.resolve(arg)
            file, _, line = where.text.rpartition(":")
            if line.isdigit() and not where.text.startswith(("label ", "macro ", "pc ")):
                return file, int(line)
            pcs = where.pcs
        else:
            pcs = frozenset({self.state.pc})
        pc = min(pcs)
        if not 0 <= pc < len(self.kernel.program):
            return None
        where_text = next((w for w in self.kernel.op_sources(pc) if w),
                          self.kernel.source_of(pc))
        if not where_text:
            return None
        file, _, line = where_text.rpartition(":")
        return (file, int(line)) if line.isdigit() else None

    def do_backtrace(self, arg: str) -> None:
        """backtrace: how the bundle in front of you came to be: its source line,
        then each macro call and include around it, innermost first."""
        pc, k = self.state.pc, self.kernel
        if not 0 <= pc < len(k.program):
            raise DebugError(self.session.ending())
        where = set(k.op_sources(pc)) or {k.source_of(pc)}
        if len(where) > 1:
            self.say(f"#0  pc {pc}: a scheduled bundle, its ops from {len(where)} source "
                     "lines ('list' shows each op's)")
            return
        source = next(iter(where))
        self.say(f"#0  pc {pc}" + (f"  {source}" if source else ""))
        chains = self.locations.chains
        if chains is None:
            self.say("(macro calls and includes are known when debugging the .vasm source)")
            return
        for i, note in enumerate(chains.get(pc, ()), 1):
            self.say(f"#{i}  {note.location}: {note.message}")

    do_bt = do_where = do_backtrace

    def do_info(self, arg: str) -> None:
        """info [WHAT]: breakpoints (b, watchpoints), display, registers (r: the last
        bundle run), program, symbols, labels, macros; alone: where the run is and
        the breakpoints."""
        topics = {"breakpoints": self.info_breakpoints, "watchpoints": self.info_breakpoints,
                  "display": self.info_display, "registers": self.info_registers,
                  "bundle": self.info_bundle, "program": self.info_program,
                  "symbols": self.info_symbols, "labels": self.info_labels,
                  "macros": self.info_macros}
        words = arg.strip().split()
        word = words[0] if words else ""
        if not word:
            self.info_program()
            self.info_breakpoints()
            return
        found = [t for t in topics if t.startswith(word)]
        if word in ("b", "r"):
            found = ["breakpoints" if word == "b" else "registers"]
        if len(found) != 1:
            raise DebugError(f"info takes one of {', '.join(topics)}, not {word!r}")
        if found[0] == "registers":
            self.info_registers(words[1:])
            return
        topics[found[0]]()

    do_i = do_info

    def info_program(self) -> None:
        st, s = self.state, self.session
        status = s.ending() if s.done else f"stopped in front of pc {st.pc}"
        limit = f"{s.max_cycles:,}" if s.max_cycles else "none"
        self.say(f"cycle {st.cycle}: {status} (cycle limit: {limit})")

    def info_breakpoints(self) -> None:
        for line in stop_lines(self.session):
            self.say(line)

    def info_display(self) -> None:
        if not self.session.displays:
            self.say("no displays")
        for d in self.session.displays.values():
            self.say(f"  {d.number:>3}  {'/' + d.fmt + ' ' if d.fmt != 'u' else ''}{d.text}")

    def info_registers(self, names: list[str] | None = None) -> None:
        """The named scratch words (the scratch map's symbols) with their values,
        as gdb lists registers; with NAMEs, those."""
        if names:
            for name in names:
                self.say(self.printed(self.session.place(name), "u"))
            return
        if not self.kernel.scratch:
            self.say("the kernel has no scratch map: 'print @N' reads word N")
            return
        for line in register_lines(self.kernel, self.state.scratch):
            self.say(line)

    def info_bundle(self) -> None:
        """The last bundle run: slots per engine and every word it wrote."""
        last = self.session.last
        if last is None:
            self.say("no bundle has run yet")
            return
        for line in last_bundle_lines(self.kernel, self.names, last):
            self.say(line)

    def info_symbols(self) -> None:
        if not self.kernel.scratch:
            self.say("the kernel has no scratch map")
        for addr, (name, length) in sorted(self.kernel.scratch.items()):
            self.say(f"  {addr:>5}  {name} ({plural(length, 'word')})")

    def info_labels(self) -> None:
        if not self.kernel.labels:
            self.say("the kernel has no labels")
        for name, pc in sorted(self.kernel.labels.items(), key=lambda x: (x[1], x[0])):
            self.say(f"  {name}: pc {pc}")

    def info_macros(self) -> None:
        macros = self.locations.macros
        if not macros:
            self.say("no macros known (they come from the kernel's source file)")
        for name in sorted(macros):
            self.say(f"  {name}")

    # ------------------------------------------------------------ changing

    def do_set(self, arg: str) -> None:
        """set var WHAT = VALUE: write a scratch or memory word (WHAT = {v0, v1, ...}
        writes several). set max-cycles N: stop runs at cycle N (0: never)."""
        words = arg.split(None, 1)
        if words and words[0] == "max-cycles":
            value = words[1].strip() if len(words) > 1 else ""
            if not value.isdigit():
                raise DebugError("set max-cycles N: a number of cycles (0: no limit)")
            self.session.max_cycles = int(value) or None
            self.say(f"cycle limit: {int(value):,}" if int(value) else "no cycle limit")
            return
        if words and words[0] in ("var", "variable"):
            arg = words[1] if len(words) > 1 else ""
        m = _ASSIGN.match(arg.strip())
        if m is None:
            raise DebugError("set var WHAT = VALUE, or set max-cycles N")
        place = self.session.place(m["what"])
        value = m["value"].strip()
        if value.startswith("{") and value.endswith("}"):
            values = [parse_number(v) for v in value[1:-1].split(",") if v.strip()]
        else:
            values = [parse_number(value)]
        self.session.write(place, values)
        self.say(self.printed(place, "u"))

    def do_help(self, arg: str) -> None:
        """help [COMMAND]: the commands, or what one does."""
        name = arg.strip()
        if name:
            found = self.command(name)
            if found is None:
                raise DebugError(f"no command {name!r}; 'help' lists them")
            self.say(" ".join(getattr(self, "do_" + found).__doc__.split()))
            return
        for topic, rows in HELP:
            self.say(topic)
            for usage, what in rows:
                self.say(f"  {usage:<26} {what}")
        self.say(PLACES)

    do_h = do_help

    def do_quit(self, arg: str) -> bool:
        """quit: leave the debugger (Ctrl-D too)."""
        return True

    do_q = do_quit


def readline_history(d: Debugger):
    """Set up readline editing, completion and ~/.vemu_history; the function
    to call at the end saves the history."""
    try:
        import readline
    except ImportError:  # pragma: no cover - no readline on this platform
        return lambda: None
    history = os.path.expanduser("~/.vemu_history")
    with contextlib.suppress(OSError, ValueError):  # none yet, or not readline's format
        readline.read_history_file(history)
    readline.set_completer(d.complete)
    readline.parse_and_bind("tab: complete")

    def save() -> None:
        with contextlib.suppress(OSError):  # a read-only home loses the history, not the session
            readline.write_history_file(history)

    return save


def debug(kernel: Kernel, mem: list[int], *, stdin: TextIO | None = None,
          stdout: TextIO | None = None, max_cycles: int | None = DEFAULT_MAX_CYCLES,
          locations: Locations | None = None) -> None:
    """Run the prompt until `quit` or the end of input. With `stdin` None (a
    terminal), lines are edited with readline and kept in ~/.vemu_history."""
    d = Debugger(kernel, mem, stdin=stdin, stdout=stdout or sys.stdout, max_cycles=max_cycles,
                 locations=locations)
    save = readline_history(d) if stdin is None else (lambda: None)
    try:
        d.cmdloop()
    finally:
        save()
