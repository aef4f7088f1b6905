"""The search: an Optuna study, run by worker processes on this machine, and
joined by `vasm tune` on other machines through a shared storage.

- Small spaces (at most GRID_MAX points) are searched as a grid: the process
  that creates the study puts every point in its queue once, in a shuffled
  order, and each worker takes the next (Optuna's storage hands a queued
  trial to one worker only, so no point runs twice; a worker that finds the
  queue emptied under it gives back the sampler's trial unrun and stops);
  larger spaces use Optuna's default sampler (TPE).
- `--trials N` is the study's total: every process stops once the study has
  N finished trials (running ones counted, so that two machines do not both
  start the last), which is also how a stopped study resumes with the same
  command.
- Ctrl-C once: no new trial starts, the running ones finish and are kept.
  Twice: the running ones stop at once, are marked interrupted (not counted)
  and queued again, so the resumed study runs them first.
- The coordinating process runs no trial: it shows the progress line and
  stops the workers.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emu.problem import Params

from .space import Param, Space
from .trial import Build, Image, evaluate, expected_images, takehome_images

GRID_MAX = 10_000  # points a space may have to be searched as a grid
QUEUED = "queued"  # the user attribute of a trial that was put in the study's queue
SEED_PARAM = "search seed"  # the scheduler's seed, when it is tuned too
ATTRS = ("kernel", "space", "build", "images")  # what a study was made for


class TuneError(Exception):
    """What stops a tuning before it starts (reported, exit 2)."""


def require_optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise TuneError("vasm tune needs Optuna, an optional part of the toolchain: "
                        "pip install 'vliw-toolchain[tune]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


@dataclass(frozen=True)
class Images:
    """The images every trial runs on, as a worker process rebuilds them: the
    take-home's (`params`, `seeds`) or the user's (name, memory, expected)."""

    params: Params = Params()
    seeds: tuple[int, ...] = (1,)
    pairs: tuple[tuple[str, list[int], list[int]], ...] = ()

    def make(self) -> list[Image]:
        if self.pairs:
            return expected_images(self.pairs)
        return takehome_images(self.params, self.seeds)

    def describe(self) -> str:
        if self.pairs:
            return "images " + ", ".join(name for name, _, _ in self.pairs)
        p = self.params
        return (f"take-home images (height {p.height}, batch {p.batch_size}, rounds "
                f"{p.rounds}) seeds {','.join(map(str, self.seeds))}")


@dataclass(frozen=True)
class Settings:
    build: Build
    space: Space  # the kernel's parameters
    images: Images
    study: str
    storage: str | None = None  # None: a journal file of this run's own
    trials: int | None = None
    timeout: float | None = None
    jobs: int = 1
    seeds: Param | None = None  # the scheduler's seeds, when they are tuned too

    @property
    def searched(self) -> Space:
        """What the study searches: the kernel's parameters and the seed."""
        if self.seeds is None:
            return self.space
        return Space((*self.space.params, Param(SEED_PARAM, self.seeds.values,
                                                self.seeds.range)))

    @property
    def grid(self) -> bool:
        return self.searched.size <= GRID_MAX

    @property
    def target(self) -> int:
        """Finished trials the study is run to."""
        if self.trials is not None:
            return self.trials
        return self.searched.size if self.grid else DEFAULT_TRIALS

    def defines(self, params: dict) -> dict[str, int]:
        """A trial's defines (the seed is not one)."""
        return self.space.defines({k: v for k, v in params.items() if k != SEED_PARAM})

    def attrs(self) -> dict[str, str]:
        """What the study is made for: a process joining it must agree."""
        b = self.build
        build = (f"-O{b.level}" + (f" --budget {b.budget:g}" if b.budget is not None else "")
                 + ("" if b.split else " --no-split") + (" --rename" if b.rename else "")
                 + "".join(f" -D {k}={v}" for k, v in sorted(b.defines.items())))
        return {"kernel": str(b.source), "space": self.searched.describe(), "build": build,
                "images": self.images.describe()}


DEFAULT_TRIALS = 100  # without --trials, a space too large for a grid
OPEN_ATTEMPTS = 5


def open_storage(url: str | None, folder: Path | None = None) -> Any:
    """An Optuna storage: an RDB URL (sqlite:///, postgresql://, mysql://), or
    a journal file (`journal:PATH`, or a path)."""
    optuna = require_optuna()
    if url is None:
        assert folder is not None
        url = f"journal:{folder / 'study.journal'}"
    if "://" in url:
        # Two processes opening a new database at once both create its tables;
        # the one that loses the race opens it again, tables and all.
        for attempt in range(OPEN_ATTEMPTS):
            try:
                return optuna.storages.RDBStorage(url, heartbeat_interval=None)
            except ImportError as e:  # no driver for this kind of database
                raise TuneError(f"cannot open the storage {url}: {_first_line(e)} (for "
                                "PostgreSQL: pip install 'vliw-toolchain[tune]')") from None
            except Exception as e:  # the driver's or the server's own words
                if attempt + 1 == OPEN_ATTEMPTS:
                    raise TuneError(f"cannot open the storage {url}: {_first_line(e)}") \
                        from None
                time.sleep(0.2 * (attempt + 1))
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock
    path = url.removeprefix("journal:")
    try:
        # (the open-lock works on shared file systems too: the many-machine case)
        return JournalStorage(JournalFileBackend(path, lock_obj=JournalFileOpenLock(path)))
    except OSError as e:
        raise TuneError(f"cannot open the journal {path}: {e.strerror or e}") from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def distributions(space: Space) -> dict[str, Any]:
    optuna = require_optuna()
    out = {}
    for p in space.params:
        if p.range is not None:
            low, high, step = p.range
            out[p.name] = optuna.distributions.IntDistribution(low, high, step=step)
        else:
            out[p.name] = optuna.distributions.CategoricalDistribution(list(p.values))
    return out


def prepare(settings: Settings, storage: Any) -> Any:
    """The study: created (grid points queued) or joined (it must be for the
    same kernel, parameters, build and images)."""
    optuna = require_optuna()
    attrs = settings.attrs()
    try:
        study = optuna.create_study(storage=storage, study_name=settings.study,
                                    direction="minimize")
    except optuna.exceptions.DuplicatedStudyError:
        return _agree(storage, attrs, settings.study)
    for k, v in attrs.items():
        study.set_user_attr(k, v)
    if settings.grid:
        points = list(settings.searched.grid())
        random.Random(settings.study).shuffle(points)  # early trials spread over the space
        for point in points:
            study.enqueue_trial(point, user_attrs={QUEUED: True})
    study.set_user_attr("ready", True)
    return study


def _agree(storage: Any, attrs: dict[str, str], name: str) -> Any:
    """The study `name`, once its creator has set it up, if it is for `attrs`."""
    optuna = require_optuna()
    deadline = time.monotonic() + 60
    while True:
        study = optuna.load_study(study_name=name, storage=storage)
        if study.user_attrs.get("ready"):
            break
        if time.monotonic() > deadline:  # its creator stopped while queueing the grid?
            raise TuneError(f"the study {name} was never made ready (its creator stopped "
                            "while setting it up?); give another --study")
        time.sleep(0.2)
    for key in ATTRS:
        theirs = study.user_attrs.get(key)
        if theirs != attrs[key]:
            raise TuneError(f"the study {name} is for {key} {theirs!r}, not {attrs[key]!r}; "
                            "give the same options, or another --study")
    return study


@dataclass
class Progress:
    """The study as the progress line and the end report read it."""

    finished: int = 0
    failed: int = 0
    running: int = 0
    best: Any = None  # the best finished trial (FrozenTrial)
    trials: list = field(default_factory=list)


def progress_of(study: Any) -> Progress:
    from optuna.trial import TrialState
    out = Progress()
    trials = study.get_trials(deepcopy=False)
    out.trials = trials
    for t in trials:
        if t.state == TrialState.RUNNING:
            out.running += 1
        elif t.state == TrialState.COMPLETE:
            out.finished += 1
            if out.best is None or t.value < out.best.value:
                out.best = t
        elif t.state == TrialState.FAIL and t.user_attrs.get("failure"):
            out.finished += 1
            out.failed += 1
    return out


# ------------------------------------------------------------------ workers

class _Abort(Exception):
    """The coordinator stopped this worker in the middle of a trial."""


def _abort(signum, frame) -> None:
    raise _Abort


def work(settings: Settings, stop: Any, deadline: float | None) -> None:
    """One worker process: take trials until the study has enough, the
    deadline passes, `stop` is set or the coordinator aborts it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the coordinator's to decide
    signal.signal(signal.SIGTERM, _abort)
    optuna = require_optuna()
    from optuna.trial import TrialState
    storage = open_storage(settings.storage)
    study = optuna.load_study(study_name=settings.study, storage=storage)
    images = settings.images.make()
    dists = distributions(settings.searched)
    grid = settings.grid
    worker = f"{socket.gethostname()}:{os.getpid()}"
    while not stop.is_set() and (deadline is None or time.time() < deadline):
        trials = study.get_trials(deepcopy=False)
        counted = sum(1 for t in trials if t.state == TrialState.RUNNING
                      or t.state == TrialState.COMPLETE
                      or (t.state == TrialState.FAIL and t.user_attrs.get("failure")))
        if counted >= settings.target:
            break
        if grid and not any(t.state == TrialState.WAITING for t in trials):
            break  # every point of the grid has been taken
        trial = take(study, dists, grid)
        if trial is None:
            break
        trial.set_user_attr("worker", worker)
        try:
            outcome = _run(settings, trial.params, images)
        except _Abort:
            trial.set_user_attr("interrupted", True)
            study.tell(trial, state=TrialState.FAIL)
            study.enqueue_trial(trial.params, user_attrs={QUEUED: True})  # run first on resuming
            return
        trial.set_user_attr("seconds", round(outcome.seconds, 3))
        if outcome.failure is not None:
            trial.set_user_attr("failure", outcome.failure)
            trial.set_user_attr("message", outcome.message)
            study.tell(trial, state=TrialState.FAIL)
        else:
            trial.set_user_attr("bound", outcome.bound)
            study.tell(trial, outcome.cycles)


def take(study: Any, dists: dict, grid: bool) -> Any | None:
    """The next trial to run, or None when the study is a grid whose queue
    another worker emptied since this one looked: the trial Optuna then makes
    is its sampler's, not a grid point, and is given back unrun (failed
    without a failure, so no count or report includes it)."""
    from optuna.trial import TrialState
    trial = study.ask(dists)
    if grid and not trial.user_attrs.get(QUEUED):
        trial.set_user_attr("unused", True)
        study.tell(trial, state=TrialState.FAIL)
        return None
    return trial


def _run(settings: Settings, params: dict, images: Sequence[Image]):
    return evaluate(settings.build, settings.defines(params), images,
                    seed=int(params.get(SEED_PARAM, 0)))


# ------------------------------------------------------------------ running

@dataclass
class Ran:
    study: Any
    progress: Progress
    interrupted: bool


def run(settings: Settings, show: Callable[[Progress, float], None] | None = None) -> Ran:
    """Create or join the study, run `settings.jobs` workers to the end, and
    return what the study holds. Ctrl-C: see the module docstring."""
    with _storage_folder(settings) as folder:
        if settings.storage is None:
            settings = _replace_storage(settings, f"journal:{folder / 'study.journal'}")
        storage = open_storage(settings.storage)
        study = prepare(settings, storage)
        deadline = None if settings.timeout is None else time.time() + settings.timeout
        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        workers = [context.Process(target=work, args=(settings, stop, deadline), daemon=True)
                   for _ in range(settings.jobs)]
        interrupts = 0
        started = time.monotonic()

        def interrupt(signum, frame) -> None:
            nonlocal interrupts
            interrupts += 1
            stop.set()
            if interrupts > 1:
                for w in workers:
                    if w.is_alive():
                        w.terminate()

        previous = signal.signal(signal.SIGINT, interrupt)
        try:
            for w in workers:
                w.start()
            while any(w.is_alive() for w in workers):
                for w in workers:
                    w.join(timeout=0.5 / len(workers))
                if show is not None:
                    show(progress_of(study), time.monotonic() - started)
        finally:
            signal.signal(signal.SIGINT, previous)
            for w in workers:
                w.join(timeout=10)
                if w.is_alive():
                    w.kill()
        study = require_optuna().load_study(study_name=settings.study, storage=storage)
        return Ran(study, progress_of(study), interrupts > 0)


@contextlib.contextmanager
def _storage_folder(settings: Settings) -> Iterator[Path | None]:
    if settings.storage is not None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="vasm-tune-") as tmp:
        yield Path(tmp)


def _replace_storage(settings: Settings, storage: str) -> Settings:
    from dataclasses import replace
    return replace(settings, storage=storage)
