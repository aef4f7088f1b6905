"""The parameters a tuning searches, from `-p NAME=SPEC`:

- a list, `16,24,32`: those values;
- an integer range, `0:8` (0 to 8 inclusive) or `0:32:4` (step 4);
- strings, `WIDE,NARROW,-`: a choice among flags; the trial defines the one
  chosen (`-D WIDE`, for `.ifdef WIDE`), `-` none.

A NAME takes an integer as a `-D NAME=VALUE` define; the kernel reads it with
`.ifndef NAME` (its default below). Values in a list may be written in any
base `-D` takes (`0x10`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

NO_FLAG = "-"  # the string choice that defines no flag


class SpecError(ValueError):
    """A `-p` that does not say a parameter."""


@dataclass(frozen=True)
class Param:
    """One parameter: its name and the values it may take (ints: a define's
    values; strings: flags to define)."""

    name: str
    values: tuple[int, ...] | tuple[str, ...]
    range: tuple[int, int, int] | None = None  # (low, high, step) when written as one

    @property
    def flags(self) -> bool:
        return isinstance(self.values[0], str)

    def defines(self, value: int | str) -> dict[str, int]:
        """The `-D` defines this parameter's `value` makes."""
        if not self.flags:
            return {self.name: int(value)}
        return {} if value == NO_FLAG else {str(value): 1}

    def spec(self) -> str:
        if self.range is not None:
            low, high, step = self.range
            return f"{low}:{high}" + (f":{step}" if step != 1 else "")
        return ",".join(map(str, self.values))


def parse_param(text: str) -> Param:
    """`NAME=SPEC` as a Param; SpecError says what is wrong."""
    name, eq, spec = text.partition("=")
    name, spec = name.strip(), spec.strip()
    if not eq or not spec:
        raise SpecError(f"{text!r}: expected NAME=SPEC (a list 16,24,32, a range 0:8 or "
                        "0:32:4, or flags WIDE,NARROW,-)")
    if not name.isidentifier():
        raise SpecError(f"{text!r}: {name!r} is not a name")
    if ":" in spec:
        return Param(name, *_range(name, spec))
    items = [v.strip() for v in spec.split(",")]
    if any(not v for v in items):
        raise SpecError(f"{name}={spec}: an empty value in the list")
    numbers = [_integer(v) for v in items]
    if all(n is not None for n in numbers):
        values: tuple = tuple(dict.fromkeys(numbers))
    elif any(n is not None for n in numbers):
        raise SpecError(f"{name}={spec}: mixes numbers and flags; a list is one or the other")
    else:
        bad = [v for v in items if v != NO_FLAG and not v.isidentifier()]
        if bad:
            raise SpecError(f"{name}={spec}: {bad[0]!r} is neither a number nor a flag name")
        values = tuple(dict.fromkeys(items))
    return Param(name, values)


def _range(name: str, spec: str) -> tuple[tuple[int, ...], tuple[int, int, int]]:
    parts = spec.split(":")
    numbers = [_integer(p.strip()) for p in parts]
    if len(parts) not in (2, 3) or any(n is None for n in numbers):
        raise SpecError(f"{name}={spec}: a range is LOW:HIGH or LOW:HIGH:STEP, in integers")
    low, high = numbers[0], numbers[1]
    step = numbers[2] if len(numbers) == 3 else 1
    if step <= 0:
        raise SpecError(f"{name}={spec}: the step must be at least 1")
    if high < low:
        raise SpecError(f"{name}={spec}: the range is empty ({high} is below {low})")
    values = tuple(range(low, high + 1, step))
    if values[-1] != high:
        raise SpecError(f"{name}={spec}: {high} is not {low} plus a whole number of steps of "
                        f"{step} (the last value would be {values[-1]})")
    return values, (low, high, step)


def _integer(text: str) -> int | None:
    try:
        return int(text.replace("_", ""), 0)
    except ValueError:
        return None


@dataclass(frozen=True)
class Space:
    params: tuple[Param, ...]

    @classmethod
    def parse(cls, specs: list[str]) -> Space:
        params = tuple(parse_param(s) for s in specs)
        names = [p.name for p in params]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise SpecError(f"{twice[0]} is given twice")
        if not params:
            raise SpecError("no parameter to tune: give -p NAME=SPEC")
        return cls(params)

    @property
    def size(self) -> int:
        return math.prod(len(p.values) for p in self.params)

    def grid(self) -> Iterator[dict[str, int | str]]:
        """Every point of the space, in order."""
        for i in range(self.size):
            point = {}
            for p in reversed(self.params):
                i, j = divmod(i, len(p.values))
                point[p.name] = p.values[j]
            yield dict(reversed(point.items()))

    def defines(self, point: Mapping[str, int | str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.params:
            out.update(p.defines(point[p.name]))
        return out

    def describe(self) -> str:
        """The space as the command line gives it (a study remembers it)."""
        return " ".join(f"-p {p.name}={p.spec()}" for p in self.params)
