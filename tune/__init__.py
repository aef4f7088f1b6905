"""`vasm tune`: search a kernel's parameters (the `-D` defines it reads with
`.ifndef`) for the fewest cycles, on Optuna.

`space` reads the parameters' specs, `trial` assembles, schedules and runs
one choice of them, `search` drives the study (on every core, and with a
shared storage across machines), `report` says what was found (a table, the
command that rebuilds the best kernel, an HTML page), `cli` is the command.
The package sits above `asm` and `emu` (it runs kernels); neither imports it.
"""
