"""The take-home problem: images and reference output equal the take-home's own."""

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from emu.problem import Layout, Params, compare_values, expected_output, make_image, myhash

# Digests of the take-home's build_mem_image after random.seed(123) at height
# 10, batch 256, 16 rounds, and of the memory its reference_kernel2 leaves.
IMAGE_SHA256 = "69bf76f24a52611451b69e2d124b6f9ba40cd5139a3b89128a4793da71a513a7"
OUTPUT_SHA256 = "a704c89441d859a62544a2e13fcb39396a1ad4f1cc6ca60aca7e7fbb1d064c18"


def _digest(mem):
    return hashlib.sha256(json.dumps(mem).encode()).hexdigest()


def test_seed_123_image_is_the_take_homes():
    mem = make_image()
    assert len(mem) == 7 + 2047 + 2 * 256 == 2566
    assert mem[:7] == [16, 2047, 256, 10, 7, 2054, 2310]
    assert _digest(mem) == IMAGE_SHA256


def test_reference_output_is_the_take_homes():
    assert _digest(expected_output(make_image())) == OUTPUT_SHA256


def test_value_trace_holds_every_key_of_every_step():
    trace: dict = {}
    expected_output(make_image(Params(3, 5, 2), 7), trace)
    assert len(trace) == 2 * 5 * 12
    assert trace[(1, 4, "hash_stage", 3)] == 921330177
    assert trace[(0, 0, "hashed_val")] == 2673133319


def test_myhash_reduces_every_stage_to_a_word():
    assert 0 <= myhash(0xFFFFFFFF) < 2**32


def test_compare_values_reports_the_first_wrong_input():
    mem = make_image(Params(2, 4, 1), 1)
    good = expected_output(mem)
    bad = list(good)
    p = Layout.of(good).values_p
    bad[p + 2] ^= 1
    mismatch = compare_values(bad, good)
    assert (mismatch.index, mismatch.expected, mismatch.actual) == (2, good[p + 2], bad[p + 2])
    assert compare_values(good, good) is None


@given(st.integers(0, 2**32 - 1))
def test_the_hash_as_one_expression_per_stage_is_the_stage_by_stage_hash(a):
    # Untraced, myhash is generated code with one mask per stage; traced, it
    # applies each stage's operators one by one.
    trace: dict = {}
    assert myhash(a) == myhash(a, trace, ("k",)) == trace[("k", "hash_stage", 5)]


@given(st.integers(1, 4), st.integers(1, 9), st.integers(0, 3), st.integers(0, 2**32 - 1))
def test_the_reference_output_is_the_same_traced_or_not(height, batch, rounds, seed):
    mem = make_image(Params(height, batch, rounds), seed)
    trace: dict = {}
    assert expected_output(mem) == expected_output(mem, trace)
    assert len(trace) == rounds * batch * 12
