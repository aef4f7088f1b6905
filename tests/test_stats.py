"""`vemu stats`: per-engine counts, bounds, critical path, idle runs, regions,
JSON and the HTML page."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
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
    assert s.engines["alu"].floor == 1 and s.engines["load"].floor == 1
    assert s.bounds.critical == 4  # const -> add -> add -> store
    assert s.bounds.tight == 4 and s.bounds.resource == 1
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
    # Each block's bounds as often as it runs: the consts once, then store -> load ->
    # sub -> jump (the store and load share an address) three times.
    assert s.bounds.critical == 1 + 4 * 3
    assert s.bounds.resource == 1 + 1 * 3


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


def _chromium() -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("VLIW_REQUIRE_BROWSER"):  # .ci/run installs it: a must there
            pytest.fail("chromium is not installed, and .ci/run requires it")
        pytest.skip("chromium is not installed: the page is not rendered in a browser")
    return chromium


_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--no-first-run", "--disable-sync"]


def _png_pixels(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, bytes per pixel, rows of RGB(A) bytes) of an 8-bit,
    non-interlaced PNG, which is what Chromium writes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    rows: list[bytes] = []
    prev = bytearray(width * bpp)
    stride = width * bpp + 1
    for y in range(height):
        kind, line = raw[y * stride], bytearray(raw[y * stride + 1:(y + 1) * stride])
        for i in range(len(line)):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def test_html_page_in_headless_chromium_matches_its_structure(tmp_path):
    """The page, rendered: a short kernel's picture spans the window's width,
    the busiest engine's row is highlighted, the cycle axis is drawn, and the
    tables are there."""
    chromium = _chromium()
    kernel = Kernel([{"alu": [("+", 0, 0, 0)] * 12, "valu": [("+", 8, 8, 8)] * 6},
                     {"valu": [("+", 8, 8, 8)] * 6}] * 30)
    stats = compute(kernel)
    assert stats.busiest == "valu"
    page = tmp_path / "s.html"
    page.write_text(html_page(stats, "test"))
    shot = tmp_path / "s.png"
    r = subprocess.run([chromium, *_FLAGS, f"--user-data-dir={tmp_path / 'u'}",
                        f"--screenshot={shot}", "--window-size=1200,900", page.as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    width, height, bpp, rows = _png_pixels(shot.read_bytes())
    assert width == 1200

    def columns_of(color: tuple[int, int, int]) -> list[int]:
        want = bytes(color)
        return sorted({x for row in rows for x in range(width)
                       if row[x * bpp:x * bpp + 3] == want})
    alu = columns_of((0x4e, 0x79, 0xa7))
    valu = columns_of((0xf2, 0x8e, 0x2b))
    assert alu and valu
    assert valu[-1] - valu[0] > 0.75 * width, "the picture does not use the page's width"
    assert columns_of((0xff, 0xf3, 0xcd)), "the busiest engine's row is not highlighted"
    axis = columns_of((0x33, 0x33, 0x33))
    assert axis and axis[-1] - axis[0] > 0.75 * width, "no cycle axis across the picture"
    r = subprocess.run([chromium, *_FLAGS, f"--user-data-dir={tmp_path / 'u2'}",
                        "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    dom = r.stdout
    for text in ("Slots used, cycle by cycle", "Ops by kind", "valu (busiest)",
                 ">cycle</text>", ">60</text>", "+ 360 (100%)"):
        assert text in dom, text


def test_report_and_stats_name_the_same_bounds_with_the_same_numbers(tmp_path):
    """One vocabulary: `vasm assemble --schedule --report` and `vemu stats` on
    the image it wrote print the same bounds line for the same program."""
    from asm.cli import main as vasm
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a, 8\n.scratch b, 8\n" + "".join(
        f"const a[{i}], {i}\nadd b[{i}], a[{i}], a[{i}]\nstore a[{i}], b[{i}]\n"
        for i in range(8)))
    image = tmp_path / "k.vk.json"
    r = CliRunner().invoke(vasm, ["assemble", str(src), "-O1", "--report", "-o", str(image)])
    assert r.exit_code == 0, r.output
    [scheduled] = [line for line in r.output.splitlines() if line.startswith("bounds")]
    shown = scheduled.removeprefix("bounds of the scheduled program: ")
    assert shown.startswith("tight bound ") and "resource floor" in shown
    r = CliRunner().invoke(vemu, ["stats", str(image)])
    assert r.exit_code == 0, r.output
    assert f"bounds (as written, each bundle once): {shown}" in r.output.splitlines()
