"""Real kernels, flattened to one op per bundle in a random order their
dependences allow (so the authors' packing cannot leak through program order),
then scheduled again at -O2: still correct, and at or under their authors'
cycles. bench/sched_speed.py runs the same over more seeds and every level."""

from __future__ import annotations

import random

import pytest

from asm.kernel import kernel_from_json
from asm.sched.flatten import flatten
from asm.sched.schedule import schedule_kernel
from emu.problem import Params, make_image
from emu.verify import run_verified


@pytest.mark.slow
def test_corpus_kernels_reschedule_correctly(corpus_entry):
    k = kernel_from_json(corpus_entry)
    p = corpus_entry["params"]
    mem = make_image(Params(p["forest_height"], p["batch_size"], p["rounds"]), 5)
    flat = flatten(k, random.Random(11))
    flat_run = run_verified(flat, list(mem), verify=True)
    assert flat_run.correct, "flattening changed the program"
    s = schedule_kernel(flat)
    run = run_verified(s.kernel, list(mem), verify=True)
    assert run.correct
    assert run.result.cycles <= flat_run.result.cycles
    assert run.result.cycles <= corpus_entry["cycles"]  # at most the authors' count
