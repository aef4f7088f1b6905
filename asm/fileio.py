"""Writing output files so that a failure never leaves one half-written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import Location, OutputError


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same folder, then rename.

    Raises OutputError when the file cannot be written; nothing is left behind.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise _cannot_write(target, e) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise _cannot_write(target, e) from None
        raise


def _cannot_write(target: Path, e: OSError) -> OutputError:
    return OutputError(f"cannot write: {e.strerror or e}", location=Location(str(target)))


def _mode_for(target: Path) -> int:
    """Keep the mode of a file being replaced; a new file gets 0666 less the umask."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
