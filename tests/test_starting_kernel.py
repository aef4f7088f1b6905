"""The take-home's starting kernel: 147,734 cycles, correct, in every mode."""

import pytest

from asm import Kernel
from emu.problem import make_image
from emu.starting_kernel import build_starting_kernel
from emu.verify import run_verified


@pytest.fixture(scope="module")
def starting_kernel() -> Kernel:
    program, scratch = build_starting_kernel()
    return Kernel(program, scratch=scratch)


def test_starting_kernel_has_the_take_home_shape(starting_kernel):
    assert len(starting_kernel.program) == 196_887
    assert starting_kernel.scratch[16] == ("tmp_addr", 1)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["fast", "reference"])
@pytest.mark.parametrize(("pause", "debug"), [(False, False), (True, True), (False, True)])
def test_starting_kernel_runs_147734_cycles_correctly(starting_kernel, engine, pause, debug):
    run = run_verified(starting_kernel, make_image(), verify=True, pause=pause, debug=debug,
                      engine=engine)
    assert run.result.cycles == 147_734
    assert run.correct is True


def test_pause_points_are_checked_against_the_reference(starting_kernel):
    # Drop the first pause: the check now compares the end of the rounds with
    # the reference's state before them, and must see the difference.
    program = list(starting_kernel.program)
    first_pause = next(i for i, b in enumerate(program) if b == {"flow": [("pause",)]})
    del program[first_pause]
    run = run_verified(Kernel(program), make_image(), verify=True, pause=True)
    assert run.correct is False and run.stage == 0
