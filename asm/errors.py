"""The one error hierarchy of the toolchain.

Library code raises these and never prints or exits; only the command-line
front ends turn them into text and exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where something came from: a source position, or a place in a kernel image."""

    file: str | None = None
    line: int | None = None
    col: int | None = None

    @classmethod
    def parse(cls, text: str) -> Location:
        """'file.vasm:12' (a kernel's source-map entry) -> Location(file.vasm, 12)."""
        file, sep, line = text.rpartition(":")
        if sep and line.isdigit():
            return cls(file or None, int(line))
        return cls(text)

    def __str__(self) -> str:
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


@dataclass(frozen=True)
class Note:
    """A note attached to an error, with its own place (a macro call, an include)."""

    message: str
    location: Location | None = None

    def __str__(self) -> str:
        return f"{self.location}: note: {self.message}" if self.location else f"note: {self.message}"


class ToolchainError(Exception):
    """Base class: a message, an optional location and notes.

    `severity` is "error" or "warning"; `width` is how many columns the caret
    under the offending text spans when diagnostics show the source line.
    """

    severity = "error"

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        notes: tuple[str | Note, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.notes = tuple(notes)
        self.width = 1  # columns the caret underlines

    def __str__(self) -> str:
        head = f"{self.location}: {self.message}" if self.location else self.message
        return "\n".join([head, *(str(n) if isinstance(n, Note) else f"note: {n}" for n in self.notes)])


class Diagnostic(ToolchainError):
    """One error or warning of a source file, collected rather than raised."""

    def __init__(self, message: str, *, location: Location | None = None,
                 notes: tuple[str | Note, ...] = (), severity: str = "error",
                 width: int = 1) -> None:
        super().__init__(message, location=location, notes=notes)
        self.severity = severity
        self.width = max(1, width)


class AssemblyError(ToolchainError):
    """Assembly failed; `diagnostics` holds every error and warning found."""

    def __init__(self, diagnostics: list[ToolchainError]) -> None:
        errors = [d for d in diagnostics if d.severity == "error"] or diagnostics
        first = errors[0]
        more = len(errors) - 1
        super().__init__(first.message + (f" (and {more} more)" if more else ""),
                         location=first.location, notes=first.notes)
        self.diagnostics = diagnostics


class KernelError(ToolchainError):
    """A kernel image or program that is malformed or breaks a machine rule.

    `bundle`, `engine` and `slot` name the offending place when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        bundle: int | None = None,
        engine: str | None = None,
        slot: int | None = None,
        location: Location | None = None,
        notes: tuple[str, ...] = (),
    ) -> None:
        where = []
        if bundle is not None:
            where.append(f"bundle {bundle}")
        if engine is not None:
            where.append(f"engine {engine}")
        if slot is not None:
            where.append(f"slot {slot}")
        full = f"{', '.join(where)}: {message}" if where else message
        super().__init__(full, location=location, notes=notes)
        self.bundle = bundle
        self.engine = engine
        self.slot = slot
        self.reason = message


class ImageError(ToolchainError):
    """A memory image that is not a list of 32-bit words."""


class OutputError(ToolchainError):
    """An output file that cannot be written (no such folder, no permission...)."""


class ObjectError(ToolchainError):
    """A relocatable object (`.vo`) that is malformed or of another format."""
