"""What a command imports: only what it uses. `vemu run` on a kernel image
loads neither the assembler, the scheduler nor NumPy (and a plain run of a
bundle list not even the command line: tests/test_launch.py); `vasm assemble`
without --schedule loads no scheduler, no emulator and no NumPy. (Each
import is paid on every run of the edit-run loop.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def imported(argv: list[str], cwd: Path) -> set[str]:
    entry = "emu.cli" if argv[0] == "vemu" else "asm.cli"
    code = (f"import sys\nsys.argv = {argv!r}\nfrom {entry} import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('MODULES', sorted(sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "VASM_CACHE": "off"})
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES"))
    return set(eval(line[len("MODULES "):]))  # noqa: S307 (our own print of a list)


def ours(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in ("asm", "emu", "tune")}


def test_vemu_run_on_an_image_imports_no_assembler_scheduler_or_numpy(tmp_path):
    image = tmp_path / "k.json"
    image.write_text(json.dumps([{"load": [["const", 0, 1]]}]))
    modules = imported(["vemu", "run", str(image), "--check"], tmp_path)
    assert not {m for m in modules if m.split(".")[0] in ("numpy", "lark", "pygls", "optuna")}
    assert ours(modules) == {
        "asm", "asm.diagnostics", "asm.errors", "asm.fileio", "asm.gcpause", "asm.imagefields",
        "asm.isa", "asm.jsonread", "asm.kernel", "asm.options", "asm.project", "asm.source",
        "emu", "emu._core", "emu.cli", "emu.codegen", "emu.compiled", "emu.effects",
        "emu.fast", "emu.generated_table", "emu.generated_fast", "emu.limits",
        "emu.machine", "emu.native", "emu.problem",
        "emu.reference", "emu.state", "emu.verify"} - ({"emu._core"} - ours(modules))


def test_vasm_assemble_without_schedule_imports_no_scheduler_emulator_or_numpy(tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a\nconst a, 1\n")
    modules = imported(["vasm", "assemble", str(src), "-o", str(tmp_path / "k.vk.json")],
                       tmp_path)
    assert not {m for m in modules if m.split(".")[0] in ("numpy", "pygls", "optuna")}
    assert not {m for m in ours(modules) if m.startswith(("asm.sched", "emu", "tune",
                                                           "asm.editor", "asm.views"))}
