"""Every output option of `vasm` and `vemu`: a device or FIFO is written in
place (never replaced by a regular file), a symbolic link is written through
(and stays a link), and `-` is standard output."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
GOOD = ".scratch a\n.scratch b\nstart:\n    const a, 7\n    add b, a, a\n    trace_write b\n"


def tool(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    """Run `vasm ...` or `vemu ...` as a process (the file checks are about the
    real file system)."""
    name, *rest = args
    module = {"vasm": "asm.cli", "vemu": "emu.cli"}[str(name)]
    return subprocess.run([sys.executable, "-m", module, *map(str, rest)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def src(tmp_path) -> Path:
    p = tmp_path / "k.vasm"
    p.write_text(GOOD)
    return p


def _is_char_device(path: str) -> bool:
    return stat.S_ISCHR(os.stat(path).st_mode)


# Each command with the output options it has, as (args before, output option).
OUTPUTS = [
    (["vasm", "assemble", "k.vasm", "-o"], None),
    (["vasm", "assemble", "k.vasm", "-o", "k.vk.json", "--listing"], None),
    (["vasm", "assemble", "k.vasm", "-o", "k.vk.json", "--map"], None),
    (["vasm", "assemble", "k.vasm", "-c", "-o"], None),
    (["vasm", "schedule", "k.vasm", "-o"], None),
    (["vasm", "disasm", "k.vk.json", "-o"], "image"),
    (["vemu", "run", "k.vasm", "--dump-mem"], None),
    (["vemu", "run", "k.vasm", "--trace"], None),
    (["vemu", "stats", "k.vasm", "--html"], None),
]
IDS = [" ".join(a[1:]) for a, _ in OUTPUTS]


def _prepare(tmp_path: Path, needs: str | None) -> None:
    if needs == "image":
        done = tool("vasm", "assemble", "k.vasm", "-o", "k.vk.json", cwd=tmp_path)
        assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(("args", "needs"), OUTPUTS, ids=IDS)
def test_dev_null_stays_a_device(tmp_path, src, args, needs):
    _prepare(tmp_path, needs)
    assert _is_char_device("/dev/null")
    done = tool(*args, "/dev/null", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _is_char_device("/dev/null"), "the output replaced /dev/null with a regular file"


@pytest.mark.parametrize(("args", "needs"), OUTPUTS, ids=IDS)
def test_a_fifo_is_written_into_not_replaced(tmp_path, src, args, needs):
    _prepare(tmp_path, needs)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    done = tool(*args, fifo, cwd=tmp_path)
    reader.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert got and got[0], "nothing came through the FIFO"


@pytest.mark.parametrize(("args", "needs"), OUTPUTS, ids=IDS)
def test_a_symlink_is_written_through_and_stays_a_link(tmp_path, src, args, needs):
    _prepare(tmp_path, needs)
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "out.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    done = tool(*args, link, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() != "old"
    assert not [p for p in (tmp_path / "real").iterdir() if p.name != "out.txt"]


@pytest.mark.parametrize(("args", "needs"), OUTPUTS, ids=IDS)
def test_dash_is_standard_output(tmp_path, src, args, needs):
    _prepare(tmp_path, needs)
    before = set(tmp_path.iterdir())
    done = tool(*args, "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    assert not (tmp_path / "-").exists()
    if args[:2] == ["vemu", "run"]:  # the data alone on stdout, the summary on stderr
        json.loads(done.stdout)
        assert "cycles" in done.stderr
    assert {p.name for p in set(tmp_path.iterdir()) - before} <= {"k.vk.json", "k.vo"}


def test_a_directory_is_refused_with_a_diagnostic(tmp_path, src):
    (tmp_path / "d").mkdir()
    done = tool("vasm", "assemble", "k.vasm", "-o", "d", cwd=tmp_path)
    assert done.returncode == 1
    assert "d: error: cannot write: it is a directory" in done.stderr
    assert "Traceback" not in done.stderr
