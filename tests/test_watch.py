"""Watch mode: `vemu run --watch` and `vasm assemble --watch` do their work
again on every save of the source or a file it includes, show the first
error of a bad save and go on, and stop cleanly on Ctrl-C."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("watchfiles")

KERNEL = ".include \"inc.vasm\"\n.scratch a\n.scratch p\nconst p, 0\nconst a, N\nstore p, a\n"


class Watcher:
    def __init__(self, args: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", *args], cwd=cwd,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env={**os.environ, "VASM_CACHE": "off"})
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, text: str, timeout: float = 60) -> list[str]:
        """The lines up to and including the first holding `text`."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            seen.append(line)
            if text in line:
                return seen
        raise AssertionError(f"no {text!r} in {seen}")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "k.vasm").write_text(KERNEL)
    (tmp_path / "inc.vasm").write_text("N = 5\n")
    (tmp_path / "m.json").write_text("[0, 0]")
    return tmp_path


def save(path: Path, text: str) -> None:
    time.sleep(0.3)  # (a save right after the watch started may come before it)
    path.write_text(text)


def test_vemu_run_watch_runs_again_on_every_save(folder):
    w = Watcher(["emu.cli", "run", "k.vasm", "--watch", "--mem", "m.json", "--dump-mem",
                 "out.json"], folder)
    try:
        w.expect("watching for changes")
        assert (folder / "out.json").read_text().strip() == "[5, 0]"
        save(folder / "inc.vasm", "N = 7\n")  # an included file
        w.expect("cycles")
        time.sleep(0.2)
        assert (folder / "out.json").read_text().strip() == "[7, 0]"
        save(folder / "k.vasm", KERNEL.replace("store p, a", "stor p, a"))
        lines = w.expect("unknown op 'stor'")
        assert any("k.vasm:6:1: error:" in line for line in lines)
        save(folder / "k.vasm", KERNEL)
        w.expect("cycles")
    finally:
        status = w.stop()
    assert status in (0, -signal.SIGINT, 130)
    assert "Traceback" not in "\n".join(list(w.lines.queue))


def test_vasm_assemble_watch_writes_on_every_save(folder):
    w = Watcher(["asm.cli", "assemble", "k.vasm", "--watch", "-O1", "-o", "k.vk.json"], folder)
    try:
        w.expect("watching for changes")
        first = (folder / "k.vk.json").read_text()
        save(folder / "inc.vasm", "N = 9\n")
        lines = w.expect("wrote k.vk.json")
        assert "cycles" in lines[-1]
        time.sleep(0.2)
        assert (folder / "k.vk.json").read_text() != first
        assert '"const", 0, 9' in (folder / "k.vk.json").read_text()
    finally:
        w.stop()
