"""How many examples a property test tries, scaled with the loaded profile.

A test that needs fewer (or more) examples than others writes its figure
against a profile of 200 examples, `examples(60)`, and every profile scales
it in the same proportion as every other test: the README's run ("ci", 150:
three quarters), `.ci/run`'s ("deep", 1000: five times), a hunt by hand
("long", 20000), instead of a fixed figure overriding the profile.
"""
from __future__ import annotations

from hypothesis import settings

# The max_examples the figures are written against (tests/conftest.py has the profiles).
REFERENCE_EXAMPLES = 200


def examples(n: int) -> int:
    """`n` examples under a profile of REFERENCE_EXAMPLES, scaled to the loaded one."""
    return max(1, round(n * settings.default.max_examples / REFERENCE_EXAMPLES))
