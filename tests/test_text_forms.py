"""Text as users' editors and other tools write it: a byte-order mark first,
CRLF line endings, control characters and lone surrogates inside kernel
images. Read where it can be read, written back in the form it came, and
never shown raw to a terminal or ending in a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from asm.cli import main as vasm
from asm.kernel import load_kernel
from emu.cli import main as vemu

BOM = "\ufeff"
SOURCE = ".scratch a\nconst   a, 5\n"


def invoke(cli, *args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_a_source_with_a_byte_order_mark_assembles(tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(BOM + SOURCE, encoding="utf-8")
    r = invoke(vasm, "assemble", src, "-o", tmp_path / "k.vk.json")
    assert r.exit_code == 0, r.output
    assert load_kernel(tmp_path / "k.vk.json").program == [{"load": [("const", 0, 5)]}]


def test_json_with_a_byte_order_mark_is_read(tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(SOURCE)
    image = tmp_path / "k.vk.json"
    assert invoke(vasm, "assemble", src, "-o", image).exit_code == 0
    image.write_text(BOM + image.read_text(), encoding="utf-8")
    mem = tmp_path / "m.json"
    mem.write_text(BOM + "[1, 2]", encoding="utf-8")
    r = invoke(vemu, "run", image, "--mem", mem)
    assert r.exit_code == 0, r.output
    assert "utf-8-sig" not in r.output and "1 cycles" in r.output


def test_fmt_in_place_keeps_crlf_and_the_byte_order_mark(tmp_path):
    src = tmp_path / "k.vasm"
    src.write_bytes((BOM + SOURCE).replace("\n", "\r\n").encode())
    r = invoke(vasm, "fmt", "-i", src)
    assert r.exit_code == 0, r.output
    data = src.read_bytes()
    assert data.startswith(BOM.encode())
    assert data.count(b"\r\n") == 2 and data.count(b"\n") == 2
    from asm.views.fmt import format_source
    assert data == (BOM + format_source(SOURCE)).replace("\n", "\r\n").encode()
    # Formatted once, it is formatted: --check reads CRLF as it reads LF.
    assert invoke(vasm, "fmt", "--check", src).exit_code == 0


def test_fmt_keeps_lf_files_lf(tmp_path):
    src = tmp_path / "k.vasm"
    src.write_bytes(SOURCE.encode())
    assert invoke(vasm, "fmt", "-i", src).exit_code == 0
    assert b"\r" not in src.read_bytes() and not src.read_bytes().startswith(BOM.encode())


def _image_with(tmp_path: Path, source: list[str], comment: str) -> Path:
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a\nconst a, 99999\nload a, a\n")
    image = tmp_path / "k.vk.json"
    assert invoke(vasm, "assemble", src, "-o", image).exit_code == 0
    data = json.loads(image.read_text())
    data["source"] = source
    data["program"].insert(0, {"debug": [["comment", comment]]})
    data["source"].insert(0, None)
    image.write_text(json.dumps(data))
    return image


def test_control_characters_in_a_source_map_are_escaped_in_messages(tmp_path):
    image = _image_with(tmp_path, ["\x1b[31mred.vasm:1", "x\x00y.vasm:2"], "fine")
    r = invoke(vemu, "run", image, "--mem", _mem(tmp_path))
    assert r.exit_code == 1
    assert "\x00" not in r.output and "\x1b" not in r.output
    assert "x\\x00y.vasm:2: error:" in r.output


def test_a_lone_surrogate_in_a_comment_is_written_escaped(tmp_path):
    image = tmp_path / "s.json"
    image.write_text('[{"debug": [["comment", "\\ud800"]]}]')
    r = invoke(vasm, "disasm", image)
    assert r.exit_code == 0
    assert 'comment       "\\ud800"' in r.output
    out = tmp_path / "s.vasm"
    assert invoke(vasm, "disasm", image, "-o", out).exit_code == 0
    # ... and reads back as the same comment.
    assert invoke(vasm, "assemble", out, "-o", tmp_path / "s.vk.json").exit_code == 0
    assert load_kernel(tmp_path / "s.vk.json").program == [{"debug": [("comment", "\ud800")]}]
    other = tmp_path / "o.json"
    other.write_text('[{"debug": [["comment", "x"]]}]')
    r = invoke(vasm, "diff", image, other)
    assert r.exit_code == 1 and '"\\ud800"' in r.output


def _mem(tmp_path: Path) -> Path:
    mem = tmp_path / "m.json"
    mem.write_text("[1, 2]")
    return mem


# Kernel and memory images.

def test_an_empty_memory_image_is_called_empty(tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a\nload a, a\n")
    empty = tmp_path / "e.json"
    empty.write_text("[]")
    r = invoke(vemu, "run", src, "--mem", empty)
    assert r.exit_code == 1
    assert "memory read at 0, but the memory image is empty" in r.output
    assert "0..-1" not in r.output


def test_a_scratch_map_entry_longer_than_scratch_is_refused(tmp_path):
    image = tmp_path / "k.json"
    image.write_text(json.dumps({"instrs": [{"alu": [["+", 0, 0, 0]]}],
                                 "scratch_map": {"10": ["x", 1099511627776]}}))
    r = invoke(vasm, "disasm", image)
    assert r.exit_code == 1
    assert ('scratch map entry 10: "x" is 1,099,511,627,776 words long, past the end of '
            "scratch (1536 words from 0; it could be at most 1526)") in r.output


def test_a_key_given_twice_in_a_json_object_is_an_error_naming_it(tmp_path):
    image = tmp_path / "k.json"
    image.write_text('[{"alu": [["+", 0, 0, 0]],\n  "alu": [["+", 1, 1, 1]]}]')
    for cli, args in ((vasm, ["disasm", image]), (vemu, ["run", image]),
                      (vasm, ["check", image])):
        r = invoke(cli, *args)
        assert r.exit_code != 0
        assert 'k.json:2:3: error: the key "alu" appears twice in one object' in r.output


def test_a_duplicate_key_in_a_memory_image_object_is_refused_too(tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a\nconst a, 1\n")
    mem = tmp_path / "m.json"
    mem.write_text('{"a": 1, "a": 2}')
    r = invoke(vemu, "run", src, "--mem", mem)
    assert r.exit_code == 2 and 'the key "a" appears twice' in r.output


def test_constants_wider_than_a_word_round_trip_through_the_disassembler(tmp_path):
    for value in (2**64, -(2**40), 2**100, -1, 2**32 - 1):
        image = tmp_path / "k.json"
        program = [{"load": [["const", 1, value]]}, {"flow": [["add_imm", 2, 1, value]]}]
        image.write_text(json.dumps(program))
        text = tmp_path / "k.vasm"
        assert invoke(vasm, "disasm", image, "-o", text).exit_code == 0
        r = invoke(vasm, "assemble", text, "-o", tmp_path / "back.vk.json")
        assert r.exit_code == 0, r.output
        back = json.loads((tmp_path / "back.vk.json").read_text())["program"]
        assert back == program, value


def test_a_binary_or_directory_memory_image_is_named_as_a_kernel_would_be(tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a\nconst a, 1\n")
    binary = tmp_path / "b.json"
    binary.write_bytes(b"\x00\xd0\xff\xfe" * 8)
    r = invoke(vemu, "run", src, "--mem", binary)
    assert r.exit_code == 2 and f"{binary}: error: not a text file" in r.output
    r = invoke(vemu, "run", binary)
    assert r.exit_code == 2 and f"{binary}: error: not a text file" in r.output
    r = invoke(vemu, "run", src, "--mem", tmp_path)
    assert r.exit_code == 2 and f"{tmp_path}: error: is a directory" in r.output
