"""What the scheduler's search does at each level, and the constants it was
tuned with (on the corpus, held-out kernels checked; docs/scheduler.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    number: int
    starts: str  # which start priorities: "quick" or "all" (search.py)
    justify_best: int  # starts justified to convergence
    justify_rounds: int  # at most, per start
    perturb_passes: int  # list passes spent perturbing (0: none), per 10k ops
    open_ended: bool = False  # then perturbation on every core, for a budget (-O3)


LEVELS: dict[int, Level] = {
    1: Level(1, "quick", 0, 1, 0),
    2: Level(2, "all", 3, 12, 200),
    # -O2's search whole, then more: -O3 never ends above -O2.
    3: Level(3, "all", 3, 12, 200, open_ended=True),
}
DEFAULT_LEVEL = 2
DEFAULT_BUDGET = 30.0  # seconds, for -O3


@dataclass(frozen=True)
class Tuning:
    """The search's constants, every one in one place."""

    # Engines busy enough for starts of their own ("feed", "supply"): at least
    # this share of the busiest engine's cycles.
    feed_within: float = 0.5
    # Engines whose idle slots blame and re-planning look at (bottlenecks).
    busy_within: float = 0.8
    # Engines counted in downstream work (by_work): this share of the busiest's load.
    work_within: float = 0.5
    # Staggered starts: their steps, as fractions of each output group's
    # slack, and the output groups a block needs for them.
    stagger: tuple[float, ...] = (1 / 3, 2 / 3, 4 / 3)
    stagger_groups: int = 4
    # Perturbation: the random share added to a blamed key to break ties
    # (cycles), the tries without a gain that end a fixed budget, the share
    # of tries that re-plan a window (the others blame), and a window's
    # length (as shares of the schedule's).
    noise: float = 0.5
    stale: int = 30
    replan: float = 0.6
    # The share of tries that blame and clear the bounds' windows
    # (search.cleared; they only blame when nothing is in one), and the
    # engines whose windows count: those whose own bound (bounds.Window) is
    # at least this share of the block's.
    clear: float = 0.2
    clear_within: float = 0.95
    window: tuple[float, float] = (0.05, 0.2)
    # -O3: the shortest leg between exchanges of the best schedule (seconds),
    # and the stride between the seeds of one leg's processes.
    leg_seconds: float = 2.0
    island_seed_stride: int = 7919
    # One seed's search seeds from the next's (a block's start pc adds).
    seed_stride: int = 104_729


TUNING = Tuning()
