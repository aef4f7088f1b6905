"""`vasm tune`: parameter specs, trials that fail or compute wrong results,
processes sharing one study (journal file, SQLite, PostgreSQL), a resumed
and an interrupted study, the missing-Optuna message, and the report page
in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna", reason="Optuna is in the [test] extra")

from tune.space import Space, SpecError, parse_param  # noqa: E402

ROOT = Path(__file__).parent.parent

# The sum of memory words 0..7 into word 20, unrolled by U: U = 3 leaves two
# words out (a wrong result), U = 0 divides by zero while assembling (a
# failed trial); every other U is right.
KERNEL = """\
.scratch acc
.scratch t
.scratch p
.ifndef U
    U = 1
.endif
    const p, 0
    const acc, 0
.rept 8 / U
.for i = 0, U
    load t, p
    add acc, acc, t
    add_imm p, p, 1
.endfor
.endr
    const p, 20
    store p, acc
"""


def slow(reps: int) -> str:
    """KERNEL with pairs of do-nothing ops first: trials that take a while, as
    long whatever U a trial draws (4 * `reps` pairs: about what `reps` pairs
    a word summed took on average over U = 1, 2, 4, 8, the longest trial 8
    times the shortest, which a test's second Ctrl-C could then miss)."""
    return KERNEL.replace(".rept 8 / U", f".rept {4 * reps}\n    add_imm acc, acc, 0\n"
                          "    add_imm acc, acc, 0\n.endr\n.rept 8 / U")


SLOW = slow(300)  # about half a second a trial


@pytest.fixture
def toy(tmp_path) -> Path:
    (tmp_path / "k.vasm").write_text(KERNEL)
    mem = list(range(1, 33))
    expected = list(mem)
    expected[20] = sum(mem[:8])
    (tmp_path / "m.json").write_text(json.dumps(mem))
    (tmp_path / "e.json").write_text(json.dumps(expected))
    return tmp_path


def vasm(*args, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "asm.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


TOY = ["tune", "k.vasm", "--mem", "m.json", "--expect", "e.json", "-q"]


def study_of(storage: str, name: str):
    from tune.search import open_storage
    return optuna.load_study(study_name=name, storage=open_storage(storage))


def completed(storage: str, name: str) -> dict[int, dict]:
    """Each completed trial's parameters, by trial number."""
    return {t.number: t.params for t in study_of(storage, name).trials
            if t.state == optuna.trial.TrialState.COMPLETE}


# ------------------------------------------------------------------ specs

def test_specs_read_lists_inclusive_ranges_steps_and_flags():
    assert parse_param("A=16,24,32").values == (16, 24, 32)
    assert parse_param("A=0x10,0b11").values == (16, 3)
    assert parse_param("A=0:8").values == tuple(range(9))
    assert parse_param("A=0:32:4").values == (0, 4, 8, 12, 16, 20, 24, 28, 32)
    flags = parse_param("MODE=WIDE,NARROW,-")
    assert flags.values == ("WIDE", "NARROW", "-")
    assert flags.defines("WIDE") == {"WIDE": 1} and flags.defines("-") == {}
    space = Space.parse(["A=1,2", "B=0:2"])
    assert space.size == 6 and list(space.grid())[1] == {"A": 1, "B": 1}


@pytest.mark.parametrize(("spec", "words"), [
    ("A", "expected NAME=SPEC"), ("A=", "expected NAME=SPEC"), ("1A=3", "is not a name"),
    ("A=0:32:5", "32 is not 0 plus a whole number of steps of 5"),
    ("A=5:1", "the range is empty"), ("A=0:8:0", "the step must be at least 1"),
    ("A=1,WIDE", "mixes numbers and flags"), ("A=1,,2", "an empty value"),
    ("A=x:y", "a range is LOW:HIGH"), ("A=a-b", "neither a number nor a flag name"),
])
def test_a_bad_spec_is_an_error_naming_it(spec, words):
    with pytest.raises(SpecError, match=words):
        parse_param(spec)


def test_a_bad_spec_on_the_command_line_exits_2(toy):
    done = vasm("tune", "k.vasm", "-p", "U=0:32:5", cwd=toy)
    assert done.returncode == 2
    assert "U=0:32:5: 32 is not 0 plus a whole number of steps of 5" in done.stderr
    done = vasm("tune", "k.vasm", "-p", "U=1", "-p", "U=2", cwd=toy)
    assert done.returncode == 2 and "U is given twice" in done.stderr
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------------ trials

def test_failed_and_wrong_trials_are_failures_with_their_messages(toy):
    done = vasm(*TOY, "-p", "U=0,1,2,3,4,8", "-j", "2", "-o", "best.vk.json",
                "--study", "s", "--storage", "journal:s.journal", cwd=toy)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "study s: 6 trials finished, 2 of them failed (6 points, grid)" in out
    assert "(U=0) failed: k.vasm:9:" in out and "division by zero" in out.lower()
    assert "(U=3) wrong: m.json: word 20 is 21, expected 36" in out
    study = study_of("journal:" + str(toy / "s.journal"), "s")
    # (the study's failures as the report counts them: a trial a worker gave
    # back unused, having lost the last queued point to the other, is no failure)
    from tune.report import failures
    from tune.search import progress_of
    failed = {t.params["U"]: t.user_attrs["failure"] for t in failures(progress_of(study))}
    assert failed == {0: "failed", 3: "wrong"}
    assert all(t.value is None for t in study.trials if t.params["U"] in (0, 3))
    # The best is rebuilt exactly by the command printed, and -o wrote it.
    command = out.split("rebuild it with:\n", 1)[1].split("\n", 1)[0].strip()
    assert command.startswith("vasm assemble k.vasm -D U=") and "-O2 -o best.vk.json" in command
    best = int(out.split("best: ", 1)[1].split(" cycles", 1)[0])
    run = subprocess.run([sys.executable, "-m", "emu.cli", "run", "best.vk.json", "--mem",
                          "m.json", "--expect", "e.json"], cwd=toy, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.startswith(f"{best} cycles, memory as expected")


def test_a_grid_worker_that_finds_the_queue_emptied_runs_nothing():
    # Two workers saw one queued point; the other took it before this one's
    # ask: what Optuna hands out then is its sampler's, and is given back.
    from optuna.trial import TrialState

    from tune.search import QUEUED, take
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()
    study.enqueue_trial({"U": 2}, user_attrs={QUEUED: True})
    dists = {"U": optuna.distributions.CategoricalDistribution([1, 2])}
    first = take(study, dists, grid=True)
    assert first is not None and first.params == {"U": 2}
    assert take(study, dists, grid=True) is None
    stray = study.get_trials(deepcopy=False)[-1]
    assert stray.state == TrialState.FAIL and stray.user_attrs.get("unused")
    assert "failure" not in stray.user_attrs  # so it counts as no finished trial
    assert take(study, dists, grid=False) is not None  # outside a grid, the sampler's is run


def test_a_study_resumes_with_the_same_command(toy):
    storage = "journal:study.journal"
    first = vasm(*TOY, "-p", "U=1,2,4,8", "--trials", "2", "-j", "1", "--storage", storage,
                 cwd=toy)
    assert first.returncode == 0, first.stderr
    before = completed("journal:" + str(toy / "study.journal"), _name(first))
    assert len(before) == 2
    again = vasm(*TOY, "-p", "U=1,2,4,8", "--trials", "4", "-j", "1", "--storage", storage,
                 cwd=toy)
    assert again.returncode == 0, again.stderr
    done = completed("journal:" + str(toy / "study.journal"), _name(again))
    assert len(done) == 4 and all(done[n] == p for n, p in before.items())
    assert sorted(p["U"] for p in done.values()) == [1, 2, 4, 8]  # the grid, no point twice
    # Other options are another study: refused by name, not mixed in.
    other = vasm(*TOY, "-p", "U=1,2", "--trials", "4", "--storage", storage, "--study",
                 _name(first), cwd=toy)
    assert other.returncode == 2 and "give the same options, or another --study" in other.stderr


def _name(done: subprocess.CompletedProcess) -> str:
    return done.stdout.split("study ", 1)[1].split(":", 1)[0]


# ------------------------------------------------------------------ sharing

def _two_processes_share(toy: Path, storage: str, trials: int = 8) -> None:
    """Two `vasm tune` processes on one storage and study: every trial of the
    study is run by exactly one of them, none is lost, both take part."""
    (toy / "k.vasm").write_text(SLOW)  # trials long enough for both to start
    space = ["-p", "U=1,2,4,8", "-p", "V=0:2"]  # V is read by nothing: 12 points
    args = [sys.executable, "-m", "asm.cli", *TOY, *space, "--trials", str(trials), "-j", "1",
            "--storage", storage, "--study", "shared"]
    procs = [subprocess.Popen(args, cwd=toy, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
    study = study_of(storage if "://" in storage
                     else "journal:" + str(toy / storage.removeprefix("journal:")), "shared")
    states = optuna.trial.TrialState
    ran = [t for t in study.trials if t.state in (states.COMPLETE, states.FAIL)]
    assert len(ran) >= trials  # (a process may start one as the other ends the last)
    assert [t.number for t in ran] == list(range(len(ran)))  # none lost
    points = [(t.params["U"], t.params["V"]) for t in ran]
    assert len(set(points)) == len(points)  # no point run twice
    assert all(t.state == states.COMPLETE for t in ran)
    assert len({t.user_attrs["worker"] for t in ran}) == 2  # both processes took trials
    assert not [t for t in study.trials if t.state == states.RUNNING]


def test_two_processes_share_one_journal_file(toy):
    _two_processes_share(toy, "journal:shared.journal")


def test_two_processes_share_one_sqlite_file(toy):
    _two_processes_share(toy, f"sqlite:///{toy / 'shared.db'}")


def test_two_processes_share_one_postgresql_database(toy):
    url = os.environ.get("VLIW_POSTGRES_URL")
    if not url:
        pytest.skip("no PostgreSQL server: .ci/run starts Debian's on localhost and sets "
                    "VLIW_POSTGRES_URL (.ci/postgres)")
    from tune.search import open_storage
    storage = open_storage(url)
    for s in optuna.get_all_study_summaries(storage):
        if s.study_name == "shared":
            optuna.delete_study(study_name="shared", storage=storage)
    _two_processes_share(toy, url)


# ------------------------------------------------------------------ Ctrl-C

def _start(toy: Path, *more: str, reps: int = 300) -> subprocess.Popen:
    (toy / "k.vasm").write_text(slow(reps))
    return subprocess.Popen([sys.executable, "-m", "asm.cli", "tune", "k.vasm", "--mem",
                             "m.json", "--expect", "e.json", "-p", "U=1,2,4,8", "-j", "1",
                             "--storage", "journal:c.journal", "--study", "c", *more],
                            cwd=toy, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_a_trial(toy: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if (toy / "c.journal").exists():
            study = study_of("journal:" + str(toy / "c.journal"), "c")
            if any(t.state == optuna.trial.TrialState.RUNNING for t in study.trials):
                return
        time.sleep(0.1)
    raise AssertionError("no trial started")


def test_ctrl_c_stops_after_the_running_trial_and_the_study_resumes(toy):
    p = _start(toy)
    _wait_for_a_trial(toy)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "interrupted: the same command resumes the study" in err
    study = study_of("journal:" + str(toy / "c.journal"), "c")
    states = optuna.trial.TrialState
    assert not [t for t in study.trials if t.state == states.RUNNING]
    kept = [t for t in study.trials if t.state == states.COMPLETE]
    assert 1 <= len(kept) < 4  # the running trial finished; no new one started
    again = _start(toy)
    out, err = again.communicate(timeout=240)
    assert again.returncode == 0, err
    study = study_of("journal:" + str(toy / "c.journal"), "c")
    assert sorted(t.params["U"] for t in study.trials if t.state == states.COMPLETE) == \
        [1, 2, 4, 8]


def test_a_second_ctrl_c_stops_at_once_and_the_trial_runs_again_on_resume(toy):
    # A trial of many seconds (the resumed study's are short: _start writes the
    # kernel again), so that the second Ctrl-C comes in its middle however
    # late the first one came and however loaded the machine is.
    p = _start(toy, reps=20_000)
    _wait_for_a_trial(toy)
    p.send_signal(signal.SIGINT)
    time.sleep(0.5)  # (two signals at once may arrive as one)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    study = study_of("journal:" + str(toy / "c.journal"), "c")
    states = optuna.trial.TrialState
    stopped = [t for t in study.trials if t.user_attrs.get("interrupted")]
    assert stopped and all(t.state == states.FAIL for t in stopped)
    assert not [t for t in study.trials if t.state == states.RUNNING]
    again = _start(toy)
    out, err = again.communicate(timeout=240)
    assert again.returncode == 0, err
    study = study_of("journal:" + str(toy / "c.journal"), "c")
    done = sorted(t.params["U"] for t in study.trials if t.state == states.COMPLETE)
    assert done == [1, 2, 4, 8]  # the interrupted point ran again


# ------------------------------------------------------------------ Optuna missing

def test_without_optuna_vasm_tune_says_how_to_get_it(toy):
    script = ("import sys; sys.modules['optuna'] = None; from asm.cli import main; "
              "main(['tune', 'k.vasm', '-p', 'U=1,2', '--mem', 'm.json', '--expect', "
              "'e.json'])")
    done = subprocess.run([sys.executable, "-c", script], cwd=toy, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert "vasm tune needs Optuna" in done.stderr
    assert "pip install 'vliw-toolchain[tune]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_rest_of_the_toolchain_never_imports_optuna(toy):
    script = ("import sys; from asm.cli import main; "
              "sys.argv = ['vasm', 'assemble', 'k.vasm', '-O1', '-o', 'k.vk.json']\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              "assert 'optuna' not in sys.modules, 'optuna was imported'")
    done = subprocess.run([sys.executable, "-c", script], cwd=toy, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------------ the page

def _chromium() -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("VLIW_REQUIRE_BROWSER"):
            pytest.fail("chromium is required (VLIW_REQUIRE_BROWSER) but not installed")
        pytest.skip("chromium is not installed: the page is not rendered in a browser")
    return chromium


def test_the_report_page_renders_history_and_effects_in_chromium(toy):
    done = vasm(*TOY, "-p", "U=1,2,4,8", "-p", "V=0:2", "--html", "t.html", "-j", "2",
                cwd=toy)
    assert done.returncode == 0, done.stderr
    page = (toy / "t.html").read_text()
    assert page.count('class="history"') == 1 and page.count('class="effect"') == 2
    assert "<h3>U</h3>" in page and "<h3>V</h3>" in page and "rebuild it with" in page
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org", "")
    shot = toy / "t.png"
    r = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={toy / 'u'}", f"--screenshot={shot}",
                        "--window-size=1000,1600", (toy / "t.html").as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    from test_stats import _png_pixels
    width, height, bpp, rows = _png_pixels(shot.read_bytes())
    blue = sum(1 for row in rows for x in range(width)
               if tuple(row[x * bpp:x * bpp + 3]) == (0x4e, 0x79, 0xa7))
    orange = sum(1 for row in rows for x in range(width)
                 if tuple(row[x * bpp:x * bpp + 3]) == (0xf2, 0x8e, 0x2b))
    assert blue > 100, "no trial dots drawn"
    assert orange > 50, "no best-so-far line or best marks drawn"
