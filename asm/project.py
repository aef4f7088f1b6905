"""`vasm.toml`: options a project keeps next to its sources, so the command
line and the editor (`vasm lsp`) assemble a file alike.

    # vasm.toml
    include = ["lib"]          # -I, relative to this file
    schedule = true            # --schedule (vasm assemble)
    level = 3                  # -O
    split = false              # --no-split
    [defines]                  # -D
    ROUNDS = 16

Options given on the command line win over the file's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import Location, ToolchainError
from .fileio import read_problem, read_text

FILE = "vasm.toml"
KEYS = ("defines", "include", "schedule", "level", "split")


@dataclass(frozen=True)
class ProjectOptions:
    path: Path | None = None  # the vasm.toml read, if any
    defines: dict[str, int] = field(default_factory=dict)
    include_paths: tuple[str, ...] = ()
    schedule: bool = False
    level: int | None = None
    split: bool = True  # lane splitting when scheduling (false: --no-split)


def project_options(source: str | Path | None) -> ProjectOptions:
    """The options of the vasm.toml beside `source`, if there is one; a
    ToolchainError says what is wrong with it."""
    if source is None:
        return ProjectOptions()
    path = Path(source).resolve().parent / FILE
    if not path.is_file():
        return ProjectOptions()
    import tomllib  # (here: a process without a project file never pays for it)

    where = Location(str(path))
    try:
        data = tomllib.loads(read_text(path))
    except (OSError, UnicodeDecodeError) as e:
        raise ToolchainError(read_problem(e), location=where) from None
    except tomllib.TOMLDecodeError as e:
        raise ToolchainError(f"{FILE} is not valid TOML: {e}", location=where) from None
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ToolchainError(f"unknown key '{unknown[0]}' in {FILE} (it knows "
                             f"{', '.join(KEYS)})", location=where)
    defines = data.get("defines", {})
    if not isinstance(defines, dict) or not all(
            isinstance(k, str) and k.isidentifier() and type(v) is int
            for k, v in defines.items()):
        raise ToolchainError(f"'defines' in {FILE} is a table of names and integers "
                             "([defines] then NAME = 16)", location=where)
    include = data.get("include", [])
    if not isinstance(include, list) or not all(isinstance(x, str) for x in include):
        raise ToolchainError(f"'include' in {FILE} is a list of folders "
                             '(include = ["lib"])', location=where)
    schedule = data.get("schedule", False)
    if type(schedule) is not bool:
        raise ToolchainError(f"'schedule' in {FILE} is true or false", location=where)
    level = data.get("level")
    if level is not None and (type(level) is not int or not 1 <= level <= 3):
        raise ToolchainError(f"'level' in {FILE} is 1, 2 or 3", location=where)
    split = data.get("split", True)
    if type(split) is not bool:
        raise ToolchainError(f"'split' in {FILE} is true or false", location=where)
    return ProjectOptions(path, dict(defines),
                          tuple(str(path.parent / x) for x in include), schedule, level, split)
