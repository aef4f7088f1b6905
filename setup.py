"""The compiled list-scheduling pass (asm/_listsched.c) is optional: without a
C compiler the install goes on and asm/listsched.py runs its Python version.
Everything else about the package is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("asm._listsched", ["asm/_listsched.c"], optional=True)])
