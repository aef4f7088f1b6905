"""`vasm lsp` against hostile and confused clients, over raw stdio: every
request gets exactly one response, a huge message is refused without
allocating it, nothing long blocks the loop, nothing is written to disk."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from lspwire import RawClient

HERE = Path(__file__).parent / "lsp"
POSITIONS = [{"line": -1, "character": 0}, {"line": 0, "character": -1},
             {"line": 2**31, "character": 0}, {"line": 0, "character": 2**40}]
REQUESTS = ["textDocument/hover", "textDocument/definition", "textDocument/references",
            "textDocument/rename", "textDocument/completion", "textDocument/signatureHelp"]


def _params(method: str, uri: str, position: dict) -> dict:
    params = {"textDocument": {"uri": uri}, "position": position}
    if method == "textDocument/rename":
        params["newName"] = "x"
    if method == "textDocument/references":
        params["context"] = {"includeDeclaration": True}
    return params


@pytest.fixture
def served(tmp_path):
    client = RawClient(cwd=tmp_path)
    client.initialize(tmp_path)
    yield client
    client.close()


def test_a_huge_content_length_is_refused_cleanly():
    client = RawClient()
    client.send_bytes(b"Content-Length: 99999999999\r\n\r\n{}")
    status = client.proc.wait(timeout=30)
    time.sleep(0.2)  # (the rest of stderr)
    err = client.stderr
    assert status == 2
    assert "a message of 99,999,999,999 bytes is over the limit of 67,108,864" in err
    assert "Traceback" not in err and "MemoryError" not in err


def test_bad_positions_get_invalid_params(served, tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a\n    const a, 1\n")
    uri = served.open(src)
    for method in REQUESTS:
        for position in POSITIONS:
            reply = served.call(method, _params(method, uri, position), timeout=20)
            assert "error" in reply, (method, position, reply)
            assert reply["error"]["code"] == -32602, (method, position, reply)
            assert "traceback" not in str(reply["error"]).lower()
    # The server goes on answering.
    reply = served.call("textDocument/hover", _params("textDocument/hover", uri,
                                                      {"line": 1, "character": 5}))
    assert "const" in reply["result"]["contents"]["value"]


def test_positions_past_the_end_of_a_document_get_null(served, tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a\n    const a, 1\n")
    uri = served.open(src)
    for method in ("textDocument/hover", "textDocument/definition",
                   "textDocument/signatureHelp"):
        reply = served.call(method, _params(method, uri, {"line": 5000, "character": 3}))
        assert reply.get("result") is None and "error" not in reply, (method, reply)


def test_a_request_before_initialize_gets_server_not_initialized():
    client = RawClient()
    try:
        reply = client.call("textDocument/hover", {"textDocument": {"uri": "file:///x.vasm"},
                                                   "position": {"line": 0, "character": 0}})
        assert reply["error"]["code"] == -32002
        assert "not initialized" in reply["error"]["message"]
    finally:
        client.close()


def test_no_error_carries_a_traceback(served, tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a\n    const a, 1\n")
    uri = served.open(src)
    reply = served.call("textDocument/rename", {"textDocument": {"uri": uri},
                                                "position": {"line": 1, "character": 11},
                                                "newName": "1 bad"})
    assert reply["error"]["code"] == -32602 and "'1 bad' is not a name" in \
        reply["error"]["message"]
    assert "data" not in reply["error"] or not reply["error"]["data"]


def _big_file(path: Path, lines: int = 120_000) -> Path:
    """The issue's 4 MB file: a long comment, then a long run of adds."""
    text = "# " + "a long comment " * 20_000 + "\n.scratch a\n.scratch b\n" + \
        "    add a, a, b\n" * lines
    path.write_text(text)
    return path


@pytest.mark.slow
def test_a_schedule_of_a_huge_file_blocks_nothing(tmp_path):
    big = _big_file(tmp_path / "big.vasm")
    assert big.stat().st_size > 2_000_000
    client = RawClient(cwd=tmp_path)
    try:
        client.initialize(tmp_path, {"schedule": True, "level": 2},
                          {"workspace": {"inlayHint": {"refreshSupport": True},
                                         "codeLens": {"refreshSupport": True}}})
        uri = client.open(big)
        # Once the file is assembled (a request may answer before that), the
        # hints of its 120,000 lines come in seconds (the text is split into
        # lines once, not once a line, which took half an hour).
        deadline = time.monotonic() + 120
        while not client.call("textDocument/codeLens", {"textDocument": {"uri": uri}},
                              timeout=30)["result"]:
            assert time.monotonic() < deadline, "the file was never assembled"
        hints = client.call("textDocument/inlayHint", {
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 0, "character": 0},
                      "end": {"line": 130_000, "character": 0}}}, timeout=120)
        assert len(hints["result"]) == 120_000
        # While the schedule runs, requests are answered at once.
        worst = 0.0
        for _ in range(20):
            t = time.monotonic()
            reply = client.call("textDocument/hover", _params(
                "textDocument/hover", uri, {"line": 5, "character": 5}), timeout=10)
            worst = max(worst, time.monotonic() - t)
            assert "add" in reply["result"]["contents"]["value"]
        assert worst < 2.0
        lens = client.call("textDocument/codeLens", {"textDocument": {"uri": uri}})
        title = lens["result"][0]["command"]["title"]
        assert "over the server's scheduleOpLimit" in title or "scheduling" in title
    finally:
        status = client.close()
    # The schedule still running, the server exits at once (not after
    # freeing the document's assembly object by object), and quietly.
    assert status == 0
    assert "Traceback" not in client.stderr and "Exception" not in client.stderr


def test_the_server_writes_nothing_to_the_workspace(tmp_path):
    (tmp_path / "k.vasm").write_text(".scratch a\n    const a, 1\n    frob a\n")
    (tmp_path / "vasm.toml").write_text("schedule = true\nlevel = 1\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*")}
    client = RawClient(cwd=tmp_path)
    client.initialize(tmp_path)
    uri = client.open(tmp_path / "k.vasm")
    for method in ("textDocument/hover", "textDocument/codeLens", "textDocument/inlayHint",
                   "textDocument/formatting", "textDocument/documentSymbol"):
        params = {"textDocument": {"uri": uri}, "position": {"line": 1, "character": 5},
                  "range": {"start": {"line": 0, "character": 0},
                            "end": {"line": 3, "character": 0}},
                  "options": {"tabSize": 4, "insertSpaces": True}}
        assert "id" in client.call(method, params)
    client.close()
    after = {p: p.read_bytes() for p in tmp_path.rglob("*")}
    assert after == before
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_scheduled_views_come_from_the_background_and_the_client_is_asked_to_refresh(tmp_path):
    src = tmp_path / "k.vasm"
    src.write_text(".scratch a, 8\n" + "".join(f"const a[{i}], {i}\n" for i in range(8)))
    client = RawClient(cwd=tmp_path)
    try:
        client.initialize(tmp_path, {"schedule": True, "level": 1},
                          {"workspace": {"inlayHint": {"refreshSupport": True},
                                         "codeLens": {"refreshSupport": True}}})
        uri = client.open(src)
        # The server asks the client to refresh once the schedule is ready.
        deadline = time.monotonic() + 60
        asked = set()
        while asked != {"workspace/inlayHint/refresh", "workspace/codeLens/refresh"}:
            m = client.messages.get(timeout=max(0.1, deadline - time.monotonic()))
            if m and "method" in m and "id" in m:
                asked.add(m["method"])
                client.send({"id": m["id"], "result": None})
        lens = client.call("textDocument/codeLens", {"textDocument": {"uri": uri}})
        assert lens["result"][0]["command"]["title"].startswith("scheduled (-O1): 4 cycles")
        # A newer version's schedule replaces the older one's.
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"text": ".scratch a, 8\n" + "".join(
                f"const a[{i}], {i}\n" for i in range(4))}]})
        deadline = time.monotonic() + 60
        while True:
            lens = client.call("textDocument/codeLens", {"textDocument": {"uri": uri}})
            title = lens["result"][0]["command"]["title"]
            if title.startswith("scheduled (-O1): 2 cycles") or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert title.startswith("scheduled (-O1): 2 cycles")
    finally:
        client.close()
