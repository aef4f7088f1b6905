"""How long a run may go when not told: one default for every front end
(`vemu run`, `vemu stats`, `vemu debug`, the quick run of emu/launch.py)."""

# Far beyond any take-home kernel (the starting one takes 147,734) and a few
# seconds of the fast engine, so a kernel that loops forever stops with a
# clear message instead of hanging.
DEFAULT_MAX_CYCLES = 20_000_000
