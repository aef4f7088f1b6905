"""`vemu stats`: per-engine counts, bounds, critical path, idle runs, regions,
JSON and the HTML page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from asm import Kernel
from emu.cli import main as vemu
from emu.stats import compute, html_page, report

ROOT = Path(__file__).parent.parent
BASELINE = ROOT / "programs" / "takehome" / "baseline.vasm"


def test_static_counts_bounds_and_idle_runs():
    program = [
        {"load": [("const", 0, 1), ("const", 1, 2)]},
        {"alu": [("+", 2, 0, 1), ("+", 3, 0, 0)]},
        {"alu": [("+", 4, 2, 3)]},
        {"debug": [("comment", "free")]},
        {"store": [("store", 0, 4)]},
    ]
    s = compute(Kernel(program, labels={"tail": 4}))
    assert s.cycles == 4 and s.bundles == 5
    assert s.engines["alu"].ops == 3 and s.engines["alu"].slots == 48
    assert s.engines["alu"].bound == 1 and s.engines["load"].bound == 1
    assert s.critical_path == 4  # const -> add -> add -> store
    assert s.lower_bound == 4
    assert s.engines["valu"].idle_cycles == 4
    assert (s.engines["store"].longest_idle, s.engines["store"].longest_idle_at) == (3, 0)
    assert [(r.name, r.cycles) for r in s.regions] == [("(start)", 3), ("tail", 1)]
    assert "critical path 4" in report(s)


def test_a_run_counts_executed_bundles_and_memory_dependences():
    # a loop of 3 iterations: store then load of the same word each time
    program = [
        {"load": [("const", 0, 3), ("const", 1, 1)]},
        {"store": [("store", 1, 0)]},            # loop: mem[1] = counter
        {"load": [("load", 2, 1)]},               # reads it back: depends on the store
        {"alu": [("-", 0, 2, 1)]},
        {"flow": [("cond_jump", 0, 1)]},
    ]
    s = compute(Kernel(program), [0] * 4)
    assert s.mode == "run" and s.cycles == 1 + 4 * 3
    assert s.engines["store"].ops == 3
    # const, then store -> load -> sub per iteration (the jump is not data), last jump
    assert s.critical_path == 1 + 3 * 3 + 1


def test_vemu_stats_json_html_and_regions(tmp_path):
    page = tmp_path / "s.html"
    r = CliRunner().invoke(vemu, ["stats", str(BASELINE), "-D", "ROUNDS=1", "-D", "BATCH=8",
                                  "--run", "--rounds", "1", "--batch", "8", "--height", "3",
                                  "--json", "--html", str(page)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["mode"] == "run" and data["cycles"] > 0
    assert set(data["engines"]) == {"alu", "valu", "load", "store", "flow"}
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text
    assert not re.search(r"(src|href)=\"https?:", text)  # self-contained
    r = CliRunner().invoke(vemu, ["stats", str(BASELINE), "--mem", "x.json"])
    assert r.exit_code == 2


def test_html_renders_in_headless_chromium(tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed: the page is not rendered in a browser")
    kernel = Kernel([{"alu": [("+", 0, 0, 0)]}, {"valu": [("+", 8, 8, 8)]}] * 50)
    page = tmp_path / "s.html"
    page.write_text(html_page(compute(kernel), "test"))
    shot = tmp_path / "s.png"
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--disable-component-update",
                        "--no-first-run", "--disable-sync", f"--user-data-dir={tmp_path / 'u'}",
                        f"--screenshot={shot}", "--window-size=1200,800", page.as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert shot.stat().st_size > 5000  # something was drawn
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--no-first-run",
                        f"--user-data-dir={tmp_path / 'u2'}", "--dump-dom", page.as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert "<svg" in r.stdout and "Slots used" in r.stdout
