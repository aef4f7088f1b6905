"""Watch mode (`vasm assemble --watch`, `vemu run --watch`): do the work,
then again on every save of a file it read, until Ctrl-C. The files come
from the work itself (a source and everything it included), so a new
`.include` is watched from the next round on. The watching is watchfiles'
(the operating system's change notifications, debounced), not ours.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

DEBOUNCE_MS = 100  # saves this close together are one change


def watch(work: Callable[[], Iterable[str]], *, say: Callable[[str], None],
          stop=None) -> None:
    """Run `work` (which returns the files it read), then again whenever one
    of them changes; until Ctrl-C (or `stop`, a threading.Event, for tests)."""
    try:
        import watchfiles
    except ImportError as e:  # (a dependency of the toolchain; an odd install lacks it)
        raise RuntimeError("watch mode needs the watchfiles package: "
                           "pip install watchfiles") from e
    files = {os.path.abspath(f) for f in work()}
    say("watching for changes (Ctrl-C to stop)")
    try:
        while True:
            folders = sorted({os.path.dirname(f) for f in files if os.path.isdir(
                os.path.dirname(f))})
            if not folders:
                return
            changed = False
            for events in watchfiles.watch(*folders, debounce=DEBOUNCE_MS, stop_event=stop,
                                           raise_interrupt=False, recursive=False):
                if any(os.path.abspath(path) in files for _, path in events):
                    changed = True
                    break
            if not changed:  # stopped
                return
            files = {os.path.abspath(f) for f in work()} or files
    except KeyboardInterrupt:
        pass
