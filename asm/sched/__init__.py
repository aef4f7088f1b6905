"""Reading and reordering programs: dependences, renaming, the scheduler and
its search, lower bounds, flattening, and the checker."""
