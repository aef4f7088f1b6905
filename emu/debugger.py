"""`vemu debug`: step through a kernel bundle by bundle.

A line-oriented prompt (Python's `cmd`, so readline history and `help` come
with it). Execution is the reference engine's, one bundle at a time, so what
you see is exactly the machine: a faulting bundle is reported and has no
effect, and you stay in front of it.

    step [N]            run N bundles (default 1)            s
    continue            run to a breakpoint, watch or the end c
    until WHERE         run to a label, pc or source line    u
    break WHERE         stop before that bundle              b
    watch WHAT          stop when a scratch word or memory word changes
    delete [N]          forget breakpoint/watch N (all without N)
    info                breakpoints and watches; where the run is
    print WHAT          scratch by symbol (vectors as 8 lanes), @N, mem[N]   p
    mem START [COUNT]   memory words                         x
    list [PC]           the bundle with its source lines     l
    quit                                                     q

WHERE is a label, a pc (`12`) or a source line (`k.vasm:30`, or `30` in the
kernel's main file). WHAT is a symbol (`vals`), a word of one (`vals[3]`), a
raw address (`@12`) or a memory word (`mem[100]`).
"""

from __future__ import annotations

import cmd
import contextlib
import os
import re
import sys
from dataclasses import dataclass
from typing import TextIO

from asm import isa
from asm.kernel import Kernel

from .reference import ReferenceEngine
from .state import EmuError, State, Status
from .trace import SlotNames, SourceLines

_WORD = re.compile(r"(?:(?P<mem>mem)\[(?P<addr>\d+)\]|@(?P<raw>\d+)|"
                   r"(?P<name>[^\[\]\s]+)(?:\[(?P<index>\d+)\])?)$")


@dataclass
class Stop:
    """A breakpoint (`pcs`) or a watch (`space`, `address`)."""

    number: int
    text: str
    pcs: frozenset[int] = frozenset()
    space: str | None = None  # "scratch" or "mem"
    address: int = 0
    last: int = 0


class DebugError(Exception):
    """A command the debugger cannot carry out; the message says why."""


class Debugger(cmd.Cmd):
    intro = "vemu debug: 'help' lists the commands; 'step', 'continue', 'quit'."
    prompt = "(vemu) "

    def __init__(self, kernel: Kernel, mem: list[int], *, stdin: TextIO | None = None,
                 stdout: TextIO | None = None, max_cycles: int | None = None) -> None:
        super().__init__(stdin=stdin, stdout=stdout)
        if stdin is not None:
            self.use_rawinput = False
        self.kernel = kernel
        self.engine = ReferenceEngine(kernel, max_cycles=max_cycles)
        self.state = State.fresh(list(mem))
        self.names = SlotNames(kernel)
        self.lines = SourceLines()
        self.stops: list[Stop] = []
        self.counter = 0
        self.symbols = {name: (addr, length) for addr, (name, length) in kernel.scratch.items()}

    # ------------------------------------------------------------ helpers

    def say(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def onecmd(self, line: str) -> bool:
        try:
            return super().onecmd(line)
        except DebugError as e:
            self.say(f"error: {e}")
            return False

    def emptyline(self) -> bool:
        return False  # an empty line does nothing (not "repeat the last command")

    def default(self, line: str) -> bool:
        self.say(f"error: unknown command {line.split()[0]!r}; 'help' lists them")
        return False

    @property
    def done(self) -> bool:
        return self.state.pc >= len(self.kernel.program) or self.state.status in (
            Status.HALTED, Status.FINISHED)

    def where(self, text: str) -> frozenset[int]:
        """The pcs a label, pc or source line names."""
        text = text.strip()
        if not text:
            raise DebugError("say where: a label, a pc or a source line")
        if text in self.kernel.labels:
            return frozenset({self.kernel.labels[text]})
        if text.isdigit() and ":" not in text:
            pc = int(text)
            if 0 <= pc <= len(self.kernel.program):
                # a bare number is a pc; `:N` or `file:N` is a source line
                return frozenset({pc})
        file, _, line = text.rpartition(":")
        if line.isdigit():
            source = self.kernel.source or []
            pcs = frozenset(pc for pc, s in enumerate(source) if s and (
                s == text or (not file and s.endswith(f":{line}"))
                or (file and s.endswith(f"{file}:{line}"))))
            if pcs:
                return pcs
            raise DebugError(f"no bundle comes from source line {text}")
        raise DebugError(f"{text!r} is not a label, a pc (0..{len(self.kernel.program)}) "
                         "or a source line")

    def word(self, text: str) -> tuple[str, int, int]:
        """(space, first address, words) for a WHAT."""
        m = _WORD.match(text.strip())
        if m is None:
            raise DebugError(f"{text!r} is not a symbol, symbol[i], @N or mem[N]")
        if m["mem"]:
            return "mem", int(m["addr"]), 1
        if m["raw"] is not None:
            return "scratch", int(m["raw"]), 1
        name = m["name"]
        if name not in self.symbols:
            raise DebugError(f"no scratch symbol {name!r}" + (
                f" (symbols: {', '.join(sorted(self.symbols)[:12])})" if self.symbols else
                " (the kernel has no scratch map)"))
        addr, length = self.symbols[name]
        if m["index"] is not None:
            i = int(m["index"])
            if not 0 <= i < length:
                raise DebugError(f"{name} has {length} words; index {i} is outside")
            return "scratch", addr + i, 1
        return "scratch", addr, length

    def read(self, space: str, addr: int) -> int:
        words = self.state.scratch if space == "scratch" else self.state.mem
        if not 0 <= addr < len(words):
            raise DebugError(f"{space} word {addr} does not exist (0..{len(words) - 1})")
        return words[addr]

    def show_bundle(self, pc: int) -> None:
        if pc >= len(self.kernel.program):
            self.say(f"pc {pc}: past the end of the program")
            return
        bundle = self.kernel.program[pc]
        source = self.kernel.source_of(pc)
        labels = [n for n, p in self.kernel.labels.items() if p == pc]
        head = f"pc {pc}" + (f" ({', '.join(labels)})" if labels else "")
        head += f", cycle {self.state.cycle}" if pc == self.state.pc else ""
        if source:
            text = self.lines.get(source)
            head += f"  {source}" + (f": {text}" if text else "")
        self.say(head)
        for engine, slots in bundle.items():
            for slot in slots:
                self.say(f"    {engine:<6} {self.names.slot(engine, tuple(slot), pc)}")
        if not any(bundle.values()):
            self.say("    (empty bundle)")

    def execute(self, limit: int | None, stop_at: frozenset[int] = frozenset()) -> None:
        """Run up to `limit` bundles (None: no limit), stopping at breakpoints
        (after the first bundle), watches, faults and the end."""
        n = 0
        while not self.done and (limit is None or n < limit):
            pc = self.state.pc
            if n and (pc in stop_at or any(pc in s.pcs for s in self.stops)):
                hit = [s.text for s in self.stops if pc in s.pcs]
                self.say(f"breakpoint {', '.join(hit)}" if hit else "stopped")
                break
            try:
                self.engine.step(self.state)
            except EmuError as e:
                self.say(f"fault: {e}")
                break
            n += 1
            changed = self.check_watches()
            if changed:
                self.say("\n".join(changed))
                break
        if self.done:
            self.say(f"the program {'halted' if self.state.status is Status.HALTED else 'ended'}"
                     f" after {self.state.cycle} cycles")
        self.show_bundle(self.state.pc)

    def check_watches(self) -> list[str]:
        out = []
        for s in self.stops:
            if s.space is None:
                continue
            now = self.read(s.space, s.address)
            if now != s.last:
                out.append(f"watch {s.number} ({s.text}): {s.last} -> {now}")
                s.last = now
        return out

    # ------------------------------------------------------------ commands

    def do_step(self, arg: str) -> bool:
        """step [N]: run N bundles (default 1) and show the next one."""
        try:
            count = int(arg) if arg.strip() else 1
        except ValueError:
            raise DebugError(f"step takes a number of bundles, not {arg!r}") from None
        self.execute(max(count, 1))
        return False

    do_s = do_step

    def do_continue(self, arg: str) -> bool:
        """continue: run until a breakpoint, a watch, a fault or the end."""
        self.execute(None)
        return False

    do_c = do_continue

    def do_until(self, arg: str) -> bool:
        """until WHERE: run to a label, pc or source line (once)."""
        self.execute(None, self.where(arg))
        return False

    do_u = do_until

    def do_break(self, arg: str) -> bool:
        """break WHERE: stop before the bundle(s) of a label, pc or source line."""
        pcs = self.where(arg)
        self.counter += 1
        self.stops.append(Stop(self.counter, arg.strip(), pcs))
        self.say(f"breakpoint {self.counter} at pc {', '.join(map(str, sorted(pcs)))}")
        return False

    do_b = do_break

    def do_watch(self, arg: str) -> bool:
        """watch WHAT: stop when a scratch word (symbol, symbol[i], @N) or a memory
        word (mem[N]) changes."""
        space, addr, width = self.word(arg)
        self.counter += 1
        for a in range(addr, addr + width):
            self.stops.append(Stop(self.counter, arg.strip(), space=space, address=a,
                                   last=self.read(space, a)))
        self.say(f"watch {self.counter}: {arg.strip()} ({width} word{'s' * (width > 1)})")
        return False

    def do_delete(self, arg: str) -> bool:
        """delete [N]: forget breakpoint or watch N, or all of them."""
        if not arg.strip():
            self.stops.clear()
            self.say("all breakpoints and watches deleted")
            return False
        if not arg.strip().isdigit() or not any(s.number == int(arg) for s in self.stops):
            raise DebugError(f"no breakpoint or watch {arg.strip()}")
        self.stops = [s for s in self.stops if s.number != int(arg)]
        return False

    def do_info(self, arg: str) -> bool:
        """info: the breakpoints and watches, and where the run is."""
        st = self.state
        self.say(f"pc {st.pc}, cycle {st.cycle}, {st.status.value}")
        seen = set()
        for s in self.stops:
            if s.number in seen:
                continue
            seen.add(s.number)
            kind = "watch" if s.space else "breakpoint"
            self.say(f"  {s.number}: {kind} {s.text}")
        return False

    def do_print(self, arg: str) -> bool:
        """print WHAT: a scratch symbol (vectors as rows of 8 lanes), symbol[i],
        @N or mem[N]."""
        space, addr, width = self.word(arg)
        values = [self.read(space, a) for a in range(addr, addr + width)]
        if width == 1:
            self.say(f"{arg.strip()} = {values[0]}")
            return False
        self.say(f"{arg.strip()} ({width} words at {addr}):")
        for i in range(0, width, isa.VLEN):  # a vector per row
            self.say(f"  {f'[{i}]':<6}" + " ".join(f"{v:>10}" for v in values[i:i + isa.VLEN]))
        return False

    do_p = do_print

    def do_mem(self, arg: str) -> bool:
        """mem START [COUNT]: memory words from START (default 8 of them)."""
        parts = arg.split()
        try:
            start = int(parts[0])
            count = int(parts[1]) if len(parts) > 1 else 8
        except (IndexError, ValueError):
            raise DebugError("mem START [COUNT]") from None
        for a in range(start, start + count, 8):
            row = [str(self.read("mem", w)) for w in range(a, min(a + 8, start + count))]
            self.say(f"  {a:>7}: " + " ".join(f"{v:>10}" for v in row))
        return False

    do_x = do_mem

    def do_list(self, arg: str) -> bool:
        """list [PC]: the bundle (default: the next to run) with its source line."""
        pc = self.state.pc if not arg.strip() else min(self.where(arg))
        self.show_bundle(pc)
        return False

    do_l = do_list

    def do_quit(self, arg: str) -> bool:
        """quit: leave the debugger."""
        return True

    do_q = do_quit
    do_EOF = do_quit

    def preloop(self) -> None:
        if self.intro:
            self.say(self.intro)
            self.intro = None  # cmdloop would print it after this
        self.show_bundle(self.state.pc)


def debug(kernel: Kernel, mem: list[int], *, stdin: TextIO | None = None,
          stdout: TextIO | None = None, max_cycles: int | None = None) -> None:
    """Run the prompt until `quit` or the end of input. At a terminal, lines
    are edited with readline and kept in ~/.vemu_history."""
    d = Debugger(kernel, mem, stdin=stdin, stdout=stdout or sys.stdout, max_cycles=max_cycles)
    history = None
    if stdin is None:
        try:
            import readline
        except ImportError:  # pragma: no cover - no readline on this platform
            readline = None
        if readline is not None:
            history = os.path.expanduser("~/.vemu_history")
            with contextlib.suppress(OSError):
                readline.read_history_file(history)
    try:
        d.cmdloop()
    finally:
        if history is not None:
            with contextlib.suppress(OSError):
                readline.write_history_file(history)
