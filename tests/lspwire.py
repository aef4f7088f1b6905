"""A raw JSON-RPC client for `vasm lsp` over stdio, for what a well-behaved
client library would never send (tests/test_lsp_wire.py) and for timing the
server as an editor meets it (bench/lsp_latency.py)."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class RawClient:
    def __init__(self, *, cwd: Path | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from asm.cli import main; main(['lsp'])"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=cwd or ROOT)
        self.messages: queue.Queue = queue.Queue()
        self.next_id = 0
        self.log: list[bytes] = []  # what the server wrote to stderr (read as it comes,
        # so that a full pipe never stops it)
        threading.Thread(target=self._read, daemon=True).start()
        self._draining = threading.Thread(target=self._drain, daemon=True)
        self._draining.start()

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.log.append(line)

    @property
    def stderr(self) -> str:
        return b"".join(self.log).decode(errors="replace")

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.messages.put(None)
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
                if line in (b"\r\n", b"\n"):
                    break
            self.messages.put(json.loads(out.read(length)))

    def send_bytes(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def request(self, method: str, params: Any = None) -> int:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        return self.next_id

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"method": method, "params": params})

    def answer(self, msg_id: int, timeout: float = 30.0) -> dict:
        """The response to request `msg_id` (answering the server's own
        requests, such as refreshes, as it goes)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no response to request {msg_id} in {timeout} s")
            try:
                m = self.messages.get(timeout=left)
            except queue.Empty:
                raise TimeoutError(f"no response to request {msg_id} in {timeout} s") from None
            if m is None:
                raise EOFError("the server closed its output")
            if "method" in m and "id" in m:  # the server asks (a refresh): say yes
                self.send({"id": m["id"], "result": None})
                continue
            if m.get("id") == msg_id and "method" not in m:
                return m

    def call(self, method: str, params: Any = None, timeout: float = 30.0) -> dict:
        return self.answer(self.request(method, params), timeout)

    def initialize(self, root: Path, options: dict | None = None,
                   capabilities: dict | None = None) -> dict:
        reply = self.call("initialize", {"processId": None, "rootUri": root.as_uri(),
                                         "capabilities": capabilities or {},
                                         "initializationOptions": options})
        self.notify("initialized", {})
        return reply

    def open(self, path: Path, text: str | None = None, version: int = 1) -> str:
        uri = path.resolve().as_uri()
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "vasm", "version": version,
            "text": path.read_text() if text is None else text}})
        return uri

    def close(self) -> int:
        try:
            self.call("shutdown", None, timeout=10)
            self.notify("exit")
        except (TimeoutError, EOFError, BrokenPipeError):
            pass
        try:
            return self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self._draining.join(timeout=5)  # (stderr is whole once close() returns)
