"""`vemu debug`, driven through its stdin: step, break, watch, print, continue."""

from __future__ import annotations

import io
from pathlib import Path

from click.testing import CliRunner

from asm import Kernel
from emu.cli import main as vemu
from emu.debugger import Debugger

ROOT = Path(__file__).parent.parent
BASELINE = ROOT / "programs" / "takehome" / "baseline.vasm"


def session(kernel: Kernel, mem: list[int], commands: str) -> str:
    out = io.StringIO()
    Debugger(kernel, mem, stdin=io.StringIO(commands), stdout=out).cmdloop()
    return out.getvalue()


KERNEL = Kernel(
    [{"load": [("const", 0, 3), ("const", 1, 1)]},
     {"alu": [("-", 0, 0, 1)], "store": [("store", 1, 0)]},
     {"flow": [("cond_jump", 0, 1)]},
     {"valu": [("vbroadcast", 8, 0)]},
     {"alu": [("//", 2, 1, 0)]},
     {"flow": [("halt",)]}],
    scratch={0: ("count", 1), 1: ("one", 1), 8: ("v", 8)},
    labels={"loop": 1, "tail": 3},
)


def test_step_break_continue_print():
    text = session(KERNEL, [0] * 4, "step\nbreak tail\ncontinue\nprint count\nprint v\n"
                                    "step\nprint v\nquit\n")
    assert "pc 0 (" not in text and "pc 0, cycle 0" in text
    assert "breakpoint 1 at pc 3" in text
    assert "breakpoint tail" in text
    assert "count = 0" in text
    assert "v (8 words at 8):" in text
    assert text.count("[0]") == 2


def test_watch_scratch_and_memory():
    text = session(KERNEL, [0] * 4, "watch count\ncontinue\ncontinue\nwatch mem[1]\n"
                                    "continue\nmem 0 4\ninfo\nquit\n")
    assert "watch 1 (count): 0 -> 3" in text
    assert "watch 1 (count): 3 -> 2" in text
    # one bundle changes both: the store writes count as it was before the sub
    assert "watch 1 (count): 2 -> 1\nwatch 2 (mem[1]): 3 -> 2" in text
    assert "     0:          0          2          0          0" in text
    assert "1: watch count" in text and "2: watch mem[1]" in text


def test_a_fault_stops_in_front_of_its_bundle_and_until():
    text = session(KERNEL, [0] * 4, "until tail\nstep 5\nlist\nq\n")
    assert "pc 3 (tail)" in text
    assert "fault: pc 4, alu slot 0" in text and "division by zero" in text
    assert text.rstrip().endswith("(vemu)")
    assert "pc 4, cycle" in text.split("fault:")[1]


def test_mistakes_are_reported_not_raised():
    text = session(KERNEL, [0] * 4, "break nowhere\nprint nothing\nstep x\nfrobnicate\n"
                                    "delete 9\nhelp\nquit\n")
    assert "error: 'nowhere' is not a label" in text
    assert "error: no scratch symbol 'nothing'" in text
    assert "error: step takes a number" in text
    assert "error: unknown command 'frobnicate'" in text
    assert "error: no breakpoint or watch 9" in text
    assert "Documented commands" in text


def test_vemu_debug_on_a_source_kernel():
    commands = ("break 20\ncontinue\nprint number[6]\nstep\nprint number[6]\nlist\n"
                "until baseline.vasm:110\nquit\n")
    r = CliRunner().invoke(vemu, ["debug", str(BASELINE), "-D", "ROUNDS=1", "-D", "BATCH=8",
                                  "--rounds", "1", "--batch", "8", "--height", "3"],
                           input=commands)
    assert r.exit_code == 0, r.output
    assert "breakpoint 20" in r.output
    assert "number[6] = 0" in r.output  # bundle 20 writes it; not run yet
    assert "number[6] = 6" in r.output
    assert "baseline.vasm:110" in r.output
    assert "compare idx, (0, 0, 'next_idx')" in r.output
