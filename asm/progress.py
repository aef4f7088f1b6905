"""A progress line for long work: on a terminal's stderr, rewritten in place,
shown only once the work has taken a second (the scheduler, batched runs)."""

from __future__ import annotations

import shutil
import sys
import time

import click


class ProgressLine:
    """One status line on a terminal's stderr, rewritten in place; it appears
    only once the work has taken a second."""

    DELAY = 1.0

    def __init__(self, what: str = "working") -> None:
        self.what = what
        self.clock = time.monotonic
        self.start = self.clock()
        self.shown = False

    def __call__(self, text: str) -> None:
        elapsed = self.clock() - self.start
        if elapsed < self.DELAY:
            return
        width = max(20, shutil.get_terminal_size().columns - 1)
        line = f"{self.what} ({elapsed:.0f} s): {text}"[:width]
        click.echo(f"\r\x1b[K{line}", nl=False, err=True)
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            click.echo("\r\x1b[K", nl=False, err=True)
            self.shown = False


def progress_line(what: str, quiet: bool = False) -> ProgressLine | None:
    """A ProgressLine when stderr is a terminal (and not `quiet`), else None."""
    return None if quiet or not sys.stderr.isatty() else ProgressLine(what)
