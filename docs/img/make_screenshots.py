"""Make docs/img/editor-lsp.png: Neovim (Debian's) with `vasm lsp` attached,
as editors/README.md sets it up, on programs/takehome/vector.vasm with one
mistake typed in, showing the diagnostic and a hover.

The editor runs in a detached tmux of a fixed size; its screen, colours
included, is captured (`tmux capture-pane -e`), written out as HTML and
photographed by headless Chromium. Needs nvim, tmux, chromium and `vasm` on
PATH. Run from anywhere:

    python docs/img/make_screenshots.py
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
COLS, ROWS = 116, 34
FONT_PX, LINE_PX, CHAR_PX = 14, 17, 8.43  # DejaVu Sans Mono at 14px
SOCKET = "vasm-screenshot"
# The mistake: a shift count that was never declared, inside the `step` macro.
MISTAKE = ("vshr          u{s}, val[8 * ({g})], sh5", "vshr          u{s}, val[8 * ({g})], sh6")
HOVER = "128:4"  # on `vmuladd`, 1-based line : 0-based column

# xterm's 16 colours (its defaults), then the 6x6x6 cube and the greys.
BASE16 = ["#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd",
          "#e5e5e5", "#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff",
          "#00ffff", "#ffffff"]
FG, BG = "#d0d0d0", "#1c1c1c"


def rgb(r: int, g: int, b: int) -> str:
    return f"#{r:02x}{g:02x}{b:02x}"


def palette(n: int) -> str:
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return rgb(steps[n // 36], steps[n // 6 % 6], steps[n % 6])
    grey = 8 + 10 * (n - 232)
    return rgb(grey, grey, grey)


def ansi_to_html(screen: str) -> str:
    """The SGR colours and attributes tmux writes, as spans."""
    out: list[str] = []
    state = {"fg": None, "bg": None, "bold": False, "reverse": False, "underline": False}
    for part in re.split(r"(\x1b\[[0-9;:]*m)", screen):
        if not part.startswith("\x1b["):
            if part:
                fg, bg = state["fg"] or FG, state["bg"] or BG
                if state["reverse"]:
                    fg, bg = bg, fg
                style = f"color:{fg};background:{bg}"
                if state["bold"]:
                    style += ";font-weight:bold"
                if state["underline"]:
                    style += ";text-decoration:underline"
                out.append(f'<span style="{style}">{html.escape(part)}</span>')
            continue
        codes = [int(c) if c else 0 for c in re.split("[;:]", part[2:-1])] or [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                state = {"fg": None, "bg": None, "bold": False, "reverse": False,
                         "underline": False}
            elif c == 1:
                state["bold"] = True
            elif c == 22:
                state["bold"] = False
            elif c in (4, 24):
                state["underline"] = c == 4
            elif c in (7, 27):
                state["reverse"] = c == 7
            elif 30 <= c <= 37 or 90 <= c <= 97:
                state["fg"] = BASE16[c - 30 if c < 90 else c - 82]
            elif 40 <= c <= 47 or 100 <= c <= 107:
                state["bg"] = BASE16[c - 40 if c < 100 else c - 92]
            elif c in (39, 49):
                state["fg" if c == 39 else "bg"] = None
            elif c in (38, 48) and i + 1 < len(codes):
                key = "fg" if c == 38 else "bg"
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    state[key] = palette(codes[i + 2])
                    i += 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    state[key] = rgb(*codes[i + 2:i + 5])
                    i += 4
            i += 1
    return "".join(out)


def page(body: str) -> str:
    return (f"<!doctype html><meta charset=utf-8><style>html,body{{margin:0;background:{BG}}}"
            f"pre{{margin:0;padding:8px;font:{FONT_PX}px/{LINE_PX}px 'DejaVu Sans Mono',"
            f"monospace;color:{FG}}}</style><pre>{body}</pre>")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True,
                          check=True).stdout


def main() -> int:
    missing = [t for t in ("nvim", "tmux", "chromium", "vasm") if shutil.which(t) is None]
    if missing:
        print(f"needs {', '.join(missing)} on PATH", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        kernel = Path(tmp) / "vector.vasm"
        text = (ROOT / "programs" / "takehome" / "vector.vasm").read_text()
        kernel.write_text(text.replace(*MISTAKE))
        env = (f"VASM_FILE={kernel} VASM_HOVER={HOVER} VASM_EDITORS={ROOT / 'editors'} "
               f"HOME={tmp} TERM=tmux-256color")
        tmux("-f", "/dev/null", "new-session", "-d", "-x", str(COLS), "-y", str(ROWS),
             f"env {env} nvim --clean -c 'luafile {HERE / 'editor_screenshot.lua'}'")
        try:
            deadline = time.monotonic() + 60
            while "lane-wise" not in tmux("capture-pane", "-p"):
                if time.monotonic() > deadline:
                    print("the hover never showed:\n" + tmux("capture-pane", "-p"),
                          file=sys.stderr)
                    return 1
                time.sleep(0.2)
            time.sleep(0.5)  # let the diagnostics' virtual text settle
            screen = tmux("capture-pane", "-e", "-p")
        finally:
            subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
        shot = Path(tmp) / "screen.html"
        shot.write_text(page(ansi_to_html(screen)))
        out = HERE / "editor-lsp.png"
        width, height = int(COLS * CHAR_PX) + 16, ROWS * LINE_PX + 16
        subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", f"--window-size={width},{height}",
                        f"--screenshot={out}", shot.as_uri()],
                       check=True, capture_output=True, env={**os.environ, "HOME": tmp})
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
