"""Writing output files so that a failure never leaves one half-written, and
nothing that is not a regular file is ever replaced.

- a regular file (or a new path) is written through a temporary file in the
  same folder, then renamed over it: readers see the old file or the new one;
- a symbolic link is followed: its target gets the same treatment, in the
  target's own folder, and the link stays a link;
- an existing path that is not a regular file (`/dev/null`, a terminal, a
  FIFO) is opened and written in place, as a shell redirection would;
- `-` is standard output (`write_output`);
- an output that is one of the command's inputs is refused before anything
  is written (`output_clash`): same path, or the same file through a link.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .errors import Location, OutputError


class _DeviceInput(OSError):
    def __str__(self) -> str:  # as messages quote it: without "[Errno 22]"
        return self.strerror


BOM = "\ufeff"


def read_problem(e: OSError | UnicodeDecodeError) -> str:
    """Why a file could not be read, as every reader says it: "not a text
    file", "is a directory", "no such file", or "cannot read: ..."."""
    if isinstance(e, UnicodeDecodeError):
        return "not a text file"
    if isinstance(e, IsADirectoryError):
        return "is a directory"
    if isinstance(e, FileNotFoundError):
        return "no such file"
    reason = e.strerror or str(e)
    return f"cannot read: {reason[:1].lower()}{reason[1:]}"


def strip_bom(text: str) -> str:
    """Text without the byte-order mark some editors put first."""
    return text[1:] if text.startswith(BOM) else text


@dataclass(frozen=True)
class TextForm:
    """How a text file was written: a byte-order mark first, and its line
    endings. `apply` gives text read as `read_text` reads it the same form."""

    bom: bool = False
    newline: str = "\n"

    def apply(self, text: str) -> str:
        if self.newline != "\n":
            text = text.replace("\n", self.newline)
        return BOM + text if self.bom else text


def read_text(path: str | os.PathLike) -> str:
    """The text of an input file (UTF-8, a byte-order mark dropped, line
    endings as "\\n"). A regular file, a pipe or a terminal is read; any
    other device is refused (`/dev/zero` would never end).
    Raises OSError or UnicodeDecodeError."""
    return read_text_form(path)[0]


def read_text_form(path: str | os.PathLike) -> tuple[str, TextForm]:
    """`read_text`, and the form the file had (to write it back alike)."""
    with open(path, encoding="utf-8", newline="") as f:
        mode = os.fstat(f.fileno()).st_mode
        if (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) and not f.isatty():
            raise _DeviceInput(errno.EINVAL, "a device, not a file")
        raw = f.read()
    text = strip_bom(raw)
    crlf = text.count("\r\n")
    form = TextForm(len(text) != len(raw), "\r\n" if crlf and crlf >= text.count("\n") - crlf
                    else "\n")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, form


def _identity(path: str | os.PathLike) -> tuple | None:
    """What names one file: its device and inode when it exists (links
    followed, so a symlink or hard link to it compares equal), its resolved
    path when it does not yet. None for what writing cannot destroy: `-`,
    devices, FIFOs and sockets (written in place, never replaced)."""
    if os.fspath(path) == "-":
        return None
    try:
        st = os.stat(path)
    except OSError:
        return ("path", os.path.realpath(path))
    if not stat.S_ISREG(st.st_mode):
        return None
    return ("file", st.st_dev, st.st_ino)


class OutputClash(OutputError):
    """An output that would replace one of the command's inputs (or another of
    its outputs)."""


def check_outputs(outputs: Iterable[str | os.PathLike | None],
                  inputs: Iterable[str | os.PathLike]) -> None:
    """Raise OutputClash when an output names the same file as an input, or as
    an earlier output (the later one would replace it). Call it before
    writing anything; None outputs are options not given."""
    read: dict[tuple, str] = {}
    for path in inputs:
        ident = _identity(path)
        if ident is not None:
            read.setdefault(ident, os.fspath(path))
    written: dict[tuple, str] = {}
    for path in outputs:
        ident = None if path is None else _identity(path)
        if ident is None:
            continue
        out = os.fspath(path)
        if ident in read:
            raise OutputClash(f"{out} is also an input ({read[ident]}); choose another output")
        if ident in written:
            raise OutputClash(f"{out} is also another output ({written[ident]}); choose "
                              "another output")
        written[ident] = out


# What UTF-8 cannot hold (a lone surrogate, which JSON input can carry) is
# written as a backslash escape rather than ending the run: every writer
# escapes what it knows of, and this is the net under them.
UNWRITABLE = "backslashreplace"


def safe_streams() -> None:
    """Standard output and error write what UTF-8 cannot hold as escapes too
    (the command-line front ends call it first)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors=UNWRITABLE)


def write_output(path: str | os.PathLike, text: str, *, stdout: TextIO | None = None) -> None:
    """Write `text` where an output option points: `-` is standard output,
    anything else goes through `write_text_atomic`."""
    if os.fspath(path) == "-":
        out = stdout or sys.stdout
        out.write(text)
        out.flush()
        return
    write_text_atomic(path, text)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write `text` to `path` (see the module's rules for links and special
    files). Raises OutputError when it cannot be written; nothing is left
    behind."""
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as e:
        raise _cannot_write(Path(path), e) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError("cannot write: it is a directory", location=Location(str(path)))
    if mode is not None and not stat.S_ISREG(mode):
        _write_in_place(target, text, Path(path))
        return
    _replace(target, text, Path(path))


def _write_in_place(target: Path, text: str, shown: Path) -> None:
    """A device or FIFO: open it and write (renaming over it would replace it)."""
    try:
        with open(target, "w", encoding="utf-8", newline="\n", errors=UNWRITABLE) as out:
            out.write(text)
    except OSError as e:
        raise _cannot_write(shown, e) from None


def _replace(target: Path, text: str, shown: Path) -> None:
    folder = target.parent if str(target.parent) else Path(".")
    try:
        import tempfile  # (only writers need it: not imported at every start)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise _cannot_write(shown, e) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n", errors=UNWRITABLE) as out:
            out.write(text)
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise _cannot_write(shown, e) from None
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
