"""Two compiled parts are optional: the list-scheduling pass (asm/sched/_listsched.c)
and the emulator's core (emu/_core.c). Without a C compiler the install goes on
and the Python versions run (asm/sched/listsched.py, emu/fast.py). Everything
else about the package is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[
    Extension("asm.sched._listsched", ["asm/sched/_listsched.c"], optional=True),
    Extension("emu._core", ["emu/_core.c"], depends=["emu/generated_core.h"], optional=True),
])
