"""Reading and reordering programs: dependences, renaming, the scheduler and
its search, lower bounds and flattening (the linter, `vasm check`, is
asm/views/lint.py)."""
