"""`vemu debug` at a terminal: a pseudo-terminal drives the real command, as a
user's keystrokes would (readline, Enter, Ctrl-C, Ctrl-D)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

HERE = Path(__file__).parent / "debugger"
PROMPT = r"\(vemu\) "


def spawn(tmp_path: Path, *args: str):
    """`vemu debug ARGS` on a pseudo-terminal, with its own home (history)."""
    command = ("import sys; from emu.cli import main; "
               "sys.argv[0] = 'vemu'; main()")
    env = {"HOME": str(tmp_path), "TERM": "dumb", "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(HERE.parent.parent), "INPUTRC": "/dev/null"}
    child = pexpect.spawn(sys.executable, ["-c", command, "debug", *args], env=env,
                          encoding="utf-8", timeout=60, dimensions=(40, 200))
    child.expect(PROMPT)
    return child


def finish(child) -> None:
    child.sendline("quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_c_stops_a_runaway_loop_and_the_debugger_goes_on(tmp_path):
    child = spawn(tmp_path, str(HERE / "runaway.vasm"))
    child.sendline("continue")
    child.expect("continue")  # echoed: the run has started
    child.expect(pexpect.TIMEOUT, timeout=1.5)  # it runs until interrupted
    child.sendintr()
    child.expect(r"interrupted at pc \d+, cycle (\d+)")
    cycles = int(child.match.group(1))
    assert cycles > 1000
    child.expect(PROMPT)
    child.sendline("print n")  # the state is intact and the prompt answers
    child.expect(r"n = (\d+)")
    assert abs(int(child.match.group(1)) - cycles // 2) <= 1
    child.expect(PROMPT)
    child.sendline("continue")  # and it can go on after an interrupt
    child.expect("continue")
    child.expect(pexpect.TIMEOUT, timeout=1)
    child.sendintr()
    child.expect(r"interrupted at pc \d+, cycle (\d+)")
    assert int(child.match.group(1)) > cycles
    child.expect(PROMPT)
    finish(child)


def test_the_cycle_limit_stops_a_runaway_loop(tmp_path):
    child = spawn(tmp_path, str(HERE / "runaway.vasm"), "--max-cycles", "20000")
    child.sendline("c")
    child.expect(r"stopped at the cycle limit of 20,000 cycles")
    child.expect(PROMPT)
    child.sendline("set max-cycles 30000")
    child.expect(PROMPT)
    child.sendline("c")
    child.expect(r"stopped at the cycle limit of 30,000 cycles")
    child.expect(r"cycle 30000")
    child.expect(PROMPT)
    finish(child)


def test_enter_repeats_the_last_command(tmp_path):
    child = spawn(tmp_path, str(HERE / "loop.vasm"), "--mem", str(memory(tmp_path)))
    child.sendline("step")
    child.expect(r"pc 1, cycle 1")
    child.expect(PROMPT)
    child.sendline("")
    child.expect(r"pc 2, cycle 2")
    child.expect(PROMPT)
    child.sendline("")
    child.expect(r"pc 3 \(loop\), cycle 3")
    child.expect(PROMPT)
    child.sendline("x/2 0")
    child.expect(r"0: 10 11")
    child.expect(PROMPT)
    child.sendline("")
    child.expect(r"2: 12 13")
    child.expect(PROMPT)
    child.sendline("break loop")  # not repeated: Enter after it does nothing
    child.expect(PROMPT)
    child.sendline("")
    child.expect(PROMPT)
    assert "breakpoint 2" not in child.before
    finish(child)


def test_ctrl_c_at_the_prompt_and_ctrl_d(tmp_path):
    child = spawn(tmp_path, str(HERE / "loop.vasm"), "--mem", str(memory(tmp_path)))
    child.send("step 3")
    child.expect("step 3")  # echoed: readline has the half-typed line
    child.sendintr()  # which Ctrl-C drops
    child.expect("Quit")
    child.expect(PROMPT)
    child.sendline("info program")
    child.expect(r"cycle 0: stopped in front of pc 0")
    child.expect(PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert (tmp_path / ".vemu_history").exists()


def memory(tmp_path: Path) -> Path:
    path = tmp_path / "mem.json"
    path.write_text("[" + ", ".join(str(10 + i) for i in range(10)) + "]")
    return path
