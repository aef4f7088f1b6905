"""Two compiled parts are optional: the list-scheduling pass (asm/sched/_listsched.c)
and the emulator's core (emu/_core.c). Without a C compiler the install goes on
and the Python versions run (asm/sched/listsched.py, emu/fast.py). Everything
else about the package is in pyproject.toml."""

import hashlib
from pathlib import Path

from setuptools import Extension, setup


def compiled(name: str, source: str, *depends: str) -> Extension:
    """An optional extension that carries SOURCE_ID, a digest of the files it
    is built from. Optional means a compile error leaves an editable
    install's old module in place, silently; tests/test_architecture.py
    compares the digest with today's files and says to rebuild."""
    here = Path(__file__).parent
    digest = hashlib.sha256(b"".join((here / p).read_bytes() for p in (source, *depends)))
    return Extension(name, [source], depends=list(depends), optional=True,
                     define_macros=[("SOURCE_ID", f'"{digest.hexdigest()[:16]}"')])


setup(ext_modules=[
    compiled("asm.sched._listsched", "asm/sched/_listsched.c"),
    compiled("emu._core", "emu/_core.c", "emu/generated_core.h"),
])
