"""The build cache: an unchanged build comes from it (and is what a build
makes), an edit to an included file or an option is a new build, an edit that
leaves a block alone reuses that block's schedule, and a corrupt, foreign or
unwritable cache is ignored, never trusted and never a failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from asm.buildcache import DiskCache

SRC = (".include \"inc.vasm\"\n.scratch a, 8\n" + "".join(f"const a[{i}], {i}\n" for i in range(8))
       + "".join(f"add a[{i}], a[{i}], b\n" for i in range(8)))


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "k.vasm").write_text(SRC)
    (tmp_path / "inc.vasm").write_text(".scratch b\nconst b, 3\n")
    return tmp_path


def vasm(folder: Path, cache: Path | None, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "VASM_CACHE"}
    if cache is None:
        env["VASM_CACHE"] = "off"
    else:
        env["VASM_CACHE_DIR"] = str(cache)
    return subprocess.run([sys.executable, "-m", "asm.cli", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)


def entries(cache: Path, kind: str) -> list[Path]:
    return sorted((cache / kind).rglob("*.json")) if (cache / kind).exists() else []


def build(folder: Path, cache: Path | None, out: str = "k.vk.json", *more: str) -> str:
    done = vasm(folder, cache, "assemble", "k.vasm", "-O1", "-o", out, *more)
    assert done.returncode == 0, done.stderr
    return (folder / out).read_text()


def test_an_unchanged_build_comes_from_the_cache_and_is_the_same(project, tmp_path):
    cache = tmp_path / "cache"
    fresh = build(project, None, "fresh.vk.json")
    first = build(project, cache)
    assert first == fresh
    assert entries(cache, "builds") and entries(cache, "blocks")
    assert build(project, cache, "again.vk.json") == fresh
    # The stored build is what is written: with its blocks gone, it still is.
    for path in entries(cache, "blocks"):
        path.unlink()
    assert build(project, cache, "third.vk.json") == fresh
    assert not entries(cache, "blocks")  # (nothing was scheduled)


def test_an_edited_include_or_option_is_a_new_build(project, tmp_path):
    cache = tmp_path / "cache"
    build(project, cache)
    (project / "inc.vasm").write_text(".scratch b\nconst b, 4\n")
    after = json.loads(build(project, cache))
    assert ["const", 0, 4] in [s for b in after["program"] for s in b.get("load", [])]
    assert len(entries(cache, "builds")) == 1  # (the same key: its entry made again)
    build(project, cache, "k.vk.json", "-D", "X=1")
    assert len(entries(cache, "builds")) == 2


def test_an_edit_that_leaves_a_block_alone_reuses_its_schedule(project, tmp_path):
    cache = tmp_path / "cache"
    build(project, cache)
    blocks = entries(cache, "blocks")
    (project / "k.vasm").write_text("# a comment moves every line\n" + SRC)
    build(project, cache)
    assert entries(cache, "blocks") == blocks  # no new block schedule: the old one served
    from asm.kernel import load_kernel
    k = load_kernel(project / "k.vk.json")
    lines = {s.rsplit("/", 1)[-1] for pc in range(len(k.program)) for s in k.op_sources(pc)}
    assert "k.vasm:4" in lines and "k.vasm:3" not in lines  # its source lines are today's


@pytest.mark.parametrize("damage", ["garbage", "foreign", "tampered"])
def test_a_damaged_entry_is_ignored(project, tmp_path, damage):
    cache = tmp_path / "cache"
    fresh = build(project, None, "fresh.vk.json")
    build(project, cache)
    for path in entries(cache, "builds") + entries(cache, "blocks"):
        data = json.loads(path.read_text())
        if damage == "garbage":
            path.write_bytes(b"\x00\xff not json")
        elif damage == "foreign":
            data["key"] = "0" * 64
            path.write_text(json.dumps(data))
        else:  # a valid entry with a wrong result: its checksum no longer fits
            if "image" in data["value"]:
                data["value"]["image"] = data["value"]["image"].replace('"const", 0, 0',
                                                                        '"const", 0, 7')
            else:
                data["value"]["bundles"] = list(reversed(data["value"]["bundles"] or []))
            path.write_text(json.dumps(data))
    assert build(project, cache, "again.vk.json") == fresh


def test_a_block_schedule_that_breaks_a_dependence_is_not_used(project, tmp_path):
    """Even with a right checksum (made by a broken toolchain, say), a stored
    placement that puts an op before what it depends on is refused."""
    from asm.buildcache import text_digest
    cache = tmp_path / "cache"
    fresh = build(project, None, "fresh.vk.json")
    build(project, cache)
    for path in entries(cache, "builds"):
        path.unlink()
    for path in entries(cache, "blocks"):
        data = json.loads(path.read_text())
        data["value"]["bundles"] = list(reversed(data["value"]["bundles"]))
        data["sum"] = text_digest(json.dumps(data["value"], sort_keys=True))
        path.write_text(json.dumps(data))
    assert build(project, cache, "again.vk.json") == fresh


def test_an_unwritable_cache_never_fails_a_build(project, tmp_path):
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("x")
    fresh = build(project, None, "fresh.vk.json")
    assert build(project, blocked, "again.vk.json") == fresh
    assert blocked.read_text() == "x"


def test_no_cache_neither_reads_nor_writes(project, tmp_path):
    cache = tmp_path / "cache"
    build(project, cache, "k.vk.json", "--no-cache")
    assert not entries(cache, "builds") and not entries(cache, "blocks")


def test_the_cache_stays_under_its_size(tmp_path):
    cache = DiskCache(tmp_path, "blocks", limit_mb=0.01)  # 10 kB
    for i in range(40):
        cache.put(f"{i:064x}", {"pad": "x" * 1000})
    total = sum(p.stat().st_size for p in (tmp_path / "blocks").rglob("*.json"))
    assert total <= 10 * 1024
    assert cache.get(f"{39:064x}") is not None  # the newest stay
