"""Big inputs work within sensible time and memory (issue: robustness).

Each runs the command-line tool in a child process, so its peak memory is
measured apart from the test process's own."""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import time

import pytest

from asm.kernel import Kernel, load_kernel, save_kernel

pytestmark = pytest.mark.slow


def _tool(module: str, *args: str) -> tuple[subprocess.CompletedProcess, float, float]:
    """(the finished process, seconds, peak memory in MB of the largest child so far)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", f"from {module} import main; main()", *args],
                          capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    return done, seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def test_a_10_mb_source_assembles(tmp_path):
    rng = random.Random(1)
    ops = ["add x, x, y", "xor y, y, x", "const z[{}], {}", "mul x, x, y", "sub y, x, y"]
    lines, total = [".scratch x", ".scratch y", ".scratch z, 8"], 0
    while total < 10_000_000:
        line = (f"    {rng.choice(ops).format(rng.randrange(8), rng.randrange(1 << 30))}"
                f"  # line {len(lines)}")
        lines.append(line)
        total += len(line) + 1
    src = tmp_path / "big.vasm"
    src.write_text("\n".join(lines) + "\n")
    done, seconds, peak = _tool("asm.cli", "assemble", str(src), "-o", str(tmp_path / "k.json"))
    assert done.returncode == 0, done.stderr
    assert len(load_kernel(tmp_path / "k.json").program) == len(lines) - 3
    assert seconds < 240 and peak < 2000, (seconds, peak)  # about 10 s and 800 MB here


def test_a_million_bundle_kernel_runs(tmp_path):
    program = [{"alu": [("+", i % 7, (i + 1) % 7, (i + 2) % 7)]} if i % 3
               else {"load": [("const", i % 5, i)]} for i in range(1_000_000)]
    save_kernel(Kernel(program), tmp_path / "k.vk.json")
    (tmp_path / "mem.json").write_text("[]")
    done, seconds, peak = _tool("emu.cli", "run", str(tmp_path / "k.vk.json"),
                                "--mem", str(tmp_path / "mem.json"), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["cycles"] == 1_000_000
    assert seconds < 120 and peak < 2000, (seconds, peak)  # about 4 s and 700 MB here
