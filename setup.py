"""The compiled list-scheduling pass (asm/sched/_listsched.c) is optional: without a
C compiler the install goes on and asm/sched/listsched.py runs its Python version.
Everything else about the package is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("asm.sched._listsched", ["asm/sched/_listsched.c"], optional=True)])
