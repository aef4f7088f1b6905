"""Progress lines: shown on a terminal once work takes a second (the
scheduler, batched runs), rewritten in place, cleared at the end; never on a
pipe."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

import emu
from emu import batch, native
from emu.problem import Params, make_image

ROOT = Path(__file__).parent.parent


def test_batched_runs_report_progress(monkeypatch):
    monkeypatch.setattr(batch, "PROGRESS_EVERY", 5)
    program = [{"load": [("const", 0, 1)]}] * 20
    lines: list[str] = []
    emu.run_batch(program, [[0] * 4] * 3, progress=lines.append, compiled=False)
    assert lines and lines[0] == "0 of 3 images done; a group of 3 at cycle 4"


def test_compiled_batches_report_progress(monkeypatch):
    if not native.AVAILABLE:
        pytest.skip("the compiled core is not built here")
    monkeypatch.setattr(batch, "IMAGES_PER_REPORT", 2)
    program = [{"load": [("const", 0, 1)]}] * 20
    lines: list[str] = []
    emu.run_batch(program, [[0] * 4] * 3, progress=lines.append)
    assert lines == ["2 of 3 images done", "3 of 3 images done"]


SCRIPT = """
import sys, time
from asm.progress import progress_line
line = progress_line("testing")
assert line is not None, "stderr is a terminal here"
line.DELAY = 0
line("step 1")
line("step 2")
line.clear()
print("done", file=sys.stderr)
"""


def test_the_line_is_rewritten_in_place_on_a_terminal_and_cleared():
    leader, follower = pty.openpty()
    done = subprocess.run([sys.executable, "-c", SCRIPT], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=follower, cwd=ROOT, timeout=60)
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    assert done.returncode == 0
    # each line replaces the last; clearing leaves the cursor at the start
    assert out.decode() == ("\r\x1b[Ktesting (0 s): step 1\r\x1b[Ktesting (0 s): step 2"
                            "\r\x1b[Kdone\r\n")


def test_no_progress_line_on_a_pipe(tmp_path):
    kernel = tmp_path / "k.json"
    kernel.write_text('[{"load": [["const", 0, 1]]}]')
    done = subprocess.run([sys.executable, "-m", "emu.cli", "run", str(kernel), "--seeds", "3",
                           "--height", "2", "--batch", "4", "--rounds", "1", "--seed", "1"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "\x1b[K" not in done.stderr
    assert make_image(Params(2, 4, 1), 1)
