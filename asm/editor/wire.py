"""The language server's side of the wire, hardened against what a hostile or
confused client sends: every request gets exactly one response.

- A message whose header asks for more than MAX_MESSAGE bytes is refused
  before anything is read into memory: one line on stderr and the server
  stops, with a non-zero status (a stream whose framing is lost cannot be
  resynchronised).
- A request whose parameters do not fit the protocol (a position at line -1
  or past 2**31) is answered with InvalidParams; one before `initialize`
  with ServerNotInitialized.
- An error response never carries a Python traceback in its `data`: it goes
  to the server's log (stderr) instead.
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass
from typing import Any, BinaryIO

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol

MAX_MESSAGE = 64 * 1024 * 1024  # bytes in one message's body (64 MiB)
SERVER_NOT_INITIALIZED = -32002  # the protocol's error code
_LENGTH = re.compile(rb"^Content-Length:\s*(\d+)\s*$", re.IGNORECASE)

logger = logging.getLogger(__name__)


class Oversized(Exception):
    """A header that announces a body over MAX_MESSAGE bytes."""


class GuardedInput:
    """Standard input as the server reads it, refusing an oversized message's
    header before its body is read (the reader would allocate it whole)."""

    def __init__(self, stream: BinaryIO, limit: int = MAX_MESSAGE) -> None:
        self.stream = stream
        self.limit = limit
        self.refused: int | None = None  # the length refused, once one is

    def readline(self) -> bytes:
        line = self.stream.readline()
        m = _LENGTH.match(line)
        if m is not None and int(m.group(1)) > self.limit:
            self.refused = int(m.group(1))
            sys.stderr.write(f"vasm lsp: a message of {self.refused:,} bytes is over the "
                             f"limit of {self.limit:,}; the stream cannot go on, stopping\n")
            sys.stderr.flush()
            return b""  # the end of input: the server's loop stops
        return line

    def read(self, n: int) -> bytes:
        return self.stream.read(n)


@dataclass
class _Refused:
    """A request answered with an error before it reaches a handler."""

    id: Any
    error: lsp.ResponseError
    jsonrpc: str = "2.0"


class GuardedProtocol(LanguageServerProtocol):
    """LanguageServerProtocol that answers every request (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initialize_seen = False

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException as e:
            if isinstance(data, dict) and "id" in data and "method" in data:
                code = e.code if isinstance(e, JsonRpcInvalidParams) else \
                    JsonRpcInvalidParams.CODE
                return _Refused(data["id"], lsp.ResponseError(
                    code=code, message=f"{data['method']}: the parameters do not fit the "
                    "protocol (a position must be 0 to 2**31 - 1, say)"))
            raise

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Refused):
            self._send_response(message.id, None, message.error)
            return
        method = getattr(message, "method", None)
        request = hasattr(message, "id") and method is not None
        if method == lsp.INITIALIZE:
            self.initialize_seen = True
        elif request and not self.initialize_seen:
            self._send_response(message.id, None, lsp.ResponseError(
                code=SERVER_NOT_INITIALIZED,
                message=f"{method}: the server is not initialized yet (send initialize first)"))
            return
        super().handle_message(message)

    def _send_response(self, msg_id: Any, result: Any = None,
                       error: lsp.ResponseError | None = None) -> None:
        if error is not None and error.data is not None:
            logger.error("error answering request %s: %s\n%s", msg_id, error.message, error.data)
            sys.stderr.write(f"vasm lsp: error answering request {msg_id}: {error.message}\n")
            error = lsp.ResponseError(code=error.code, message=error.message)
        super()._send_response(msg_id, result, error)
