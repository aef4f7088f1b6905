"""Write the take-home's starting kernel as a kernel image: baseline.vk.json.

    python programs/takehome/make_baseline.py [OUT]

Until the assembler lands, this is how the 147,734-cycle starting kernel gets
into a file that `vemu run` reads.
"""

import sys
from pathlib import Path

from asm import Kernel, save_kernel
from emu.starting_kernel import build_starting_kernel

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("baseline.vk.json")
program, scratch = build_starting_kernel()
save_kernel(Kernel(program, scratch=scratch), out)
print(f"wrote {out} ({len(program)} bundles)")
