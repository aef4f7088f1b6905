import gzip
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.json.gz"))

# The build cache (asm/buildcache.py) is off for the tests, which schedule and
# assemble for real; tests/test_buildcache.py turns it on in folders of its own.
os.environ["VASM_CACHE"] = "off"

# The tests run one per core already (pytest-xdist): the scheduler's threads
# (asm/sched/search.py) would only compete with the other tests; those that
# check the threads ask for them (-j, jobs=).
os.environ["VASM_JOBS"] = "1"

# Every property test's budget is a share of the loaded profile's max_examples
# (tests/budget.py), so a deeper profile deepens them all alike: "ci" is the
# README's run (under 5 minutes on 2 cores), "deep" what .ci/run runs (about
# 7x, up to 20 minutes), "long" a hunt by hand (over 100x, not derandomized).
_QUIET = [HealthCheck.too_slow]
settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True,
                          suppress_health_check=_QUIET)
settings.register_profile("deep", max_examples=1000, deadline=None, derandomize=True,
                          suppress_health_check=_QUIET)
settings.register_profile("long", max_examples=20000, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def load_corpus(path: Path) -> dict:
    return json.loads(gzip.decompress(path.read_bytes()))


@pytest.fixture(params=CORPUS, ids=[p.name.removesuffix(".json.gz") for p in CORPUS])
def corpus_entry(request) -> dict:
    return load_corpus(request.param)
