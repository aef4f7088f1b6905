"""`vasm tune`: the command (registered with `vasm` as an entry point, see
pyproject.toml: `asm` does not import this package, which runs kernels)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import click

from asm.diagnostics import render
from asm.errors import ToolchainError
from asm.fileio import read_problem, read_text, write_output
from asm.jsonread import decode
from asm.kernel import dumps_kernel
from asm.options import (
    EXIT_USAGE,
    assemble_options,
    parse_defines,
    project_or_exit,
    refuse_clobbering,
    warn_extension,
)
from asm.progress import progress_line
from emu.problem import Params

from .search import DEFAULT_TRIALS, GRID_MAX, Images, Settings, TuneError, require_optuna, run
from .space import Space, SpecError, parse_param
from .trial import Build, evaluate

EXIT_INTERRUPTED = 130


def _fail(message: str) -> None:
    click.echo(f"vasm: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


@click.command("tune")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("-p", "params", multiple=True, required=True, metavar="NAME=SPEC",
              help="A parameter to tune, a -D define the kernel reads with .ifndef: a list "
                   "(16,24,32), an integer range (0:8 inclusive, 0:32:4 in steps of 4), or "
                   "flags to choose among (WIDE,NARROW,-: the trial defines the one chosen).")
@click.option("--search-seed", "search_seed", metavar="SPEC",
              help="Tune the scheduler's seed too (vasm assemble --seed): a list or range.")
@assemble_options
@click.option("-O", "level", type=click.IntRange(1, 3), default=2, show_default=True,
              metavar="LEVEL", help="Schedule each trial at this level (as vasm assemble -O).")
@click.option("--budget", type=click.FloatRange(0), metavar="SECONDS",
              help="With -O3: each trial's scheduling time (default 30).")
@click.option("--no-split", "no_split", is_flag=True, help="Schedule without lane splitting.")
@click.option("--rename", is_flag=True, help="Schedule with --rename.")
@click.option("--seeds", "image_seeds", type=click.IntRange(1), default=1, show_default=True,
              metavar="N", help="Run each trial on the take-home images of seeds 1..N.")
@click.option("--height", default=10, show_default=True, type=click.IntRange(0, 20),
              help="Tree height of the take-home images.")
@click.option("--batch", default=256, show_default=True, type=click.IntRange(1, 1 << 16),
              help="Batch size of the take-home images.")
@click.option("--rounds", default=16, show_default=True, type=click.IntRange(0, 1 << 16),
              help="Rounds of the take-home images.")
@click.option("--mem", "mems", multiple=True, metavar="FILE",
              help="Your own memory image (a JSON array of words), instead of the "
                   "take-home's; each needs an --expect, in the same order.")
@click.option("--expect", "expects", multiple=True, metavar="FILE",
              help="The whole memory expected after the kernel runs on the --mem image.")
@click.option("--trials", type=click.IntRange(1), metavar="N",
              help="Run the study to N finished trials (default: the whole grid of a small "
                   f"space, else {DEFAULT_TRIALS}); a stopped study resumes with the same "
                   "command.")
@click.option("--timeout", type=click.FloatRange(0), metavar="SECONDS",
              help="Start no trial after this long.")
@click.option("-j", "--jobs", type=click.IntRange(1), metavar="N",
              help="Trials at once on this machine, each in a process of its own "
                   "(default: every core).")
@click.option("--storage", metavar="URL",
              help="Keep the study in an Optuna storage (sqlite:///t.db, "
                   "postgresql://host/db, mysql://..., or journal:FILE, a journal file): "
                   "several machines with the same --storage and --study share one search.")
@click.option("--study", "study_name", metavar="NAME",
              help="The study's name in the storage (default: the kernel's name and a "
                   "digest of the options, so the same command resumes it).")
@click.option("-o", "output", metavar="BEST.vk.json",
              help="Write the best kernel found (built again, and checked to take the "
                   "same cycles).")
@click.option("--html", "html_file", metavar="FILE",
              help="Write a page with the search's history and each parameter's effect.")
@click.option("-q", "--quiet", is_flag=True, help="No progress line.")
def tune_cmd(src: str, params: tuple[str, ...], search_seed: str | None,
             defines: tuple[str, ...], include_paths: tuple[str, ...], level: int,
             budget: float | None, no_split: bool, rename: bool, image_seeds: int,
             height: int, batch: int, rounds: int, mems: tuple[str, ...],
             expects: tuple[str, ...], trials: int | None, timeout: float | None,
             jobs: int | None, storage: str | None, study_name: str | None,
             output: str | None, html_file: str | None, quiet: bool) -> None:
    """Search SRC's parameters for the fewest cycles: each trial assembles SRC
    with one choice of them, schedules it, runs it on the images and checks
    the result (a trial that fails or computes a wrong result is failed, with
    its message). Optuna runs the search: a grid for small spaces, its default
    sampler otherwise. docs/tuning.md has the recipes for one machine and
    for many."""
    if budget is not None and level != 3:
        raise click.UsageError(f"--budget applies to -O3's search; at -O{level} it would do "
                               "nothing (add -O3)")
    if len(mems) != len(expects):
        raise click.UsageError(f"{len(mems)} --mem and {len(expects)} --expect: give each "
                               "image the memory expected after it")
    try:
        space = Space.parse(list(params))
        seeds = parse_param(f"seed={search_seed}") if search_seed is not None else None
        if seeds is not None and (seeds.flags or min(seeds.values) < 0):
            raise SpecError(f"--search-seed {search_seed}: seeds are numbers from 0")
    except SpecError as e:
        raise click.UsageError(str(e)) from None
    refuse_clobbering([output, html_file], [src, *mems, *expects])
    warn_extension(output, "image")
    warn_extension(html_file, "html")
    try:
        require_optuna()
    except TuneError as e:
        _fail(str(e))
    project = project_or_exit(src)
    build = Build(Path(src), {**project.defines, **parse_defines(defines)},
                  (*include_paths, *project.include_paths), level, budget,
                  project.split and not no_split, rename)
    images = Images(Params(height, batch, rounds), tuple(range(1, image_seeds + 1)),
                    tuple(_pairs(mems, expects)))
    settings = Settings(build, space, images, "", storage, trials, timeout,
                        jobs or _cores(), seeds)
    settings = _named(settings, study_name)
    line = progress_line(f"tuning {Path(src).name}", quiet)
    from .report import (
        best_params,
        failure_lines,
        html_page,
        progress_text,
        rebuild_command,
        table,
    )
    last: list = [None]

    def show(p, seconds: float) -> None:
        text = progress_text(p, seconds, settings.target)
        if line is not None:
            line(text)
        elif not quiet and p.best is not None and p.best.number != last[0]:
            last[0] = p.best.number
            click.echo(text, err=True)

    try:
        ran = run(settings, show)
    except TuneError as e:
        _fail(str(e))
    finally:
        if line is not None:
            line.clear()
    p = ran.progress
    space_note = "grid" if settings.grid else f"Optuna's default sampler ({GRID_MAX:,}+ points)"
    click.echo(f"study {settings.study}: {p.finished} trials finished, {p.failed} of them "
               f"failed ({settings.searched.size:,} points, {space_note})")
    if p.best is not None:
        click.echo(table(settings, p))
    for text in failure_lines(p):
        click.echo(text)
    best = best_params(p)
    if best is not None:
        click.echo(f"best: {int(p.best.value)} cycles (trial {p.best.number}); rebuild it with:")
        click.echo(f"  {rebuild_command(settings, best, output or 'best.vk.json')}")
    if ran.interrupted:
        click.echo("interrupted: the same command resumes the study"
                   + ("" if storage else " (give --storage to keep it between runs)"),
                   err=True)
    if html_file is not None:
        _write(html_file, html_page(settings, p, f"vasm tune {Path(src).name}"))
    if output is not None and best is not None:
        _write_best(settings, best, int(p.best.value), output)
    if ran.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if best is None:
        sys.exit(1)


def _cores() -> int:
    from asm.sched.search import workers
    return workers()


def _named(settings: Settings, name: str | None) -> Settings:
    from dataclasses import replace
    if name is None:
        digest = hashlib.sha256(json.dumps(settings.attrs(), sort_keys=True).encode())
        name = f"{settings.build.source.stem}-{digest.hexdigest()[:8]}"
    return replace(settings, study=name)


def _pairs(mems: tuple[str, ...], expects: tuple[str, ...]):
    for mem, expect in zip(mems, expects, strict=True):
        yield mem, _image(mem), _image(expect)


def _image(path: str) -> list[int]:
    from emu.machine import check_image
    try:
        text = read_text(path)
    except (OSError, UnicodeDecodeError) as e:
        _fail(f"{path}: {read_problem(e)}")
    try:
        return check_image(decode(text, path, ToolchainError, "memory image"))
    except ToolchainError as e:
        click.echo(render(e), err=True)
        sys.exit(EXIT_USAGE)


def _write(path: str, text: str) -> None:
    try:
        write_output(path, text)
    except ToolchainError as e:
        click.echo(render(e), err=True)
        sys.exit(1)


def _write_best(settings: Settings, params: dict, cycles: int, output: str) -> None:
    """Build the best kernel again; it must take the cycles the trial took."""
    from .search import SEED_PARAM
    again = evaluate(settings.build, settings.defines(params), settings.images.make(),
                     seed=int(params.get(SEED_PARAM, 0)), keep_kernel=True)
    if again.kernel is None or again.cycles != cycles:
        why = again.message or f"{again.cycles} cycles, not {cycles}"
        note = " (-O3 stops on the clock, so a second build may differ)" \
            if settings.build.level == 3 else ""
        click.echo(f"vasm: warning: the best kernel built again: {why}{note}", err=True)
    if again.kernel is not None:
        _write(output, dumps_kernel(again.kernel))
