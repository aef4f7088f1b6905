"""Work kept between runs: a build's result, and each scheduled block's
placement, in the user's cache folder, so that re-assembling an unchanged
kernel (or one whose edit left a block unchanged) skips the work.

Everything the result depends on is in an entry's key: the toolchain's own
code (a digest of its sources, so a change to the toolchain is a new key),
the input (a source's text and defines, or a block's ops), and the options.
An entry is checked before it is used (its key and checksum, and what it
says must fit what it is for); one that does not is ignored. A cache that
cannot be read or written (a read-only or full disk) never fails a build:
the work is done as if there were none.

Where: $VASM_CACHE_DIR, else the platform's cache folder
($XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS,
%LOCALAPPDATA% on Windows) under `vliw-toolchain`. At most
$VASM_CACHE_MB megabytes (default 200): the oldest entries go first.
`VASM_CACHE=off` (or `--no-cache`) turns it off.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from .fileio import write_text_atomic

FORMAT = "vliw-toolchain cache 1"
DEFAULT_MB = 200
_ROOT = Path(__file__).resolve().parent


def cache_folder() -> Path | None:
    """Where the cache lives (None: turned off)."""
    if os.environ.get("VASM_CACHE", "").lower() in ("off", "0", "no"):
        return None
    if os.environ.get("VASM_CACHE_DIR"):
        return Path(os.environ["VASM_CACHE_DIR"])
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "vliw-toolchain"


@functools.cache
def toolchain_id() -> str:
    """A digest of the toolchain's code: what a cached result was made by."""
    h = hashlib.sha256()
    for path in sorted([*_ROOT.rglob("*.py"), *_ROOT.rglob("*.c"), *_ROOT.rglob("*.lark")]):
        with contextlib.suppress(OSError):
            h.update(str(path.relative_to(_ROOT)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def digest(*parts: Any) -> str:
    """A key: the SHA-256 of the parts as canonical JSON (and the toolchain's id)."""
    text = json.dumps([toolchain_id(), *parts], sort_keys=True, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class DiskCache:
    """Entries of one kind (`kind`: a subfolder) as JSON files named by key."""

    def __init__(self, folder: Path, kind: str, limit_mb: float | None = None) -> None:
        self.folder = folder / kind
        self.root = folder
        if limit_mb is None:
            try:
                limit_mb = float(os.environ.get("VASM_CACHE_MB", DEFAULT_MB))
            except ValueError:
                limit_mb = DEFAULT_MB
        self.limit = int(limit_mb * 1024 * 1024)

    @classmethod
    def default(cls, kind: str) -> DiskCache | None:
        folder = cache_folder()
        return None if folder is None else cls(folder, kind)

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        """The value stored under `key`, or None (missing, unreadable, foreign,
        or not what was stored: the checksum says)."""
        path = self._path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError, RecursionError):
            return None
        if not isinstance(entry, dict) or entry.get("format") != FORMAT \
                or entry.get("key") != key or "value" not in entry:
            return None
        value = entry["value"]
        if entry.get("sum") != text_digest(json.dumps(value, sort_keys=True)):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # (recently used: kept longest)
        return value

    def put(self, key: str, value: Any) -> None:
        """Store `value` (JSON) under `key`; a cache that cannot be written is
        left alone."""
        entry = {"format": FORMAT, "key": key,
                 "sum": text_digest(json.dumps(value, sort_keys=True)), "value": value}
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, json.dumps(entry))
        except Exception:  # noqa: BLE001 - read-only, full, anything: no cache, no failure
            return
        self._trim()

    def _trim(self) -> None:
        """Keep the whole cache under its size: the least recently used go."""
        try:
            files = [(p.stat(), p) for p in self.root.rglob("*.json")]
        except OSError:
            return
        total = sum(st.st_size for st, _ in files)
        if total <= self.limit:
            return
        for st, p in sorted(files, key=lambda f: f[0].st_mtime):
            with contextlib.suppress(OSError):
                p.unlink()
                total -= st.st_size
            if total <= self.limit:
                break


# ---------------------------------------------------------------- builds

def build_key(source: str, text: str, options: dict) -> str:
    """The key of a build of `source` (its text as read) with `options`
    (defines, include folders, scheduling: everything the result depends on
    besides the files it includes, which the entry lists)."""
    return digest("build", os.path.abspath(source), text_digest(text), options)


def lookup_build(cache: DiskCache, key: str) -> dict | None:
    """A stored build whose included files are all as they were (each read
    and compared), or None."""
    from .fileio import read_text
    entry = cache.get(key)
    if not isinstance(entry, dict) or not isinstance(entry.get("files"), dict) \
            or not isinstance(entry.get("image"), str):
        return None
    for path, was in entry["files"].items():
        try:
            if text_digest(read_text(path)) != was:
                return None
        except (OSError, UnicodeDecodeError):
            return None
    return entry


def store_build(cache: DiskCache, key: str, files: dict[str, str], image: str,
                said: str, report: str | None) -> None:
    """Keep a build: the files it included ({path: text}), the image, what
    it printed (diagnostics) and its report."""
    cache.put(key, {"files": {p: text_digest(t) for p, t in files.items()}, "image": image,
                    "said": said, "report": report})
