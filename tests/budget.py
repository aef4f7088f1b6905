"""How many examples a property test tries, scaled with the loaded profile.

A test that needs fewer (or more) examples than the profile's default writes
its figure for the default profile, `examples(60)`, and a deeper profile
(`HYPOTHESIS_PROFILE=deep` in `.ci/run`, `long` by hand) grows it in the same
proportion as every other test, instead of a fixed figure overriding it.
"""
from __future__ import annotations

from hypothesis import settings

# The default profile's max_examples (tests/conftest.py): figures are written against it.
DEFAULT_EXAMPLES = 200


def examples(n: int) -> int:
    """`n` examples under the default profile, scaled by the loaded one."""
    return max(1, round(n * settings.default.max_examples / DEFAULT_EXAMPLES))
