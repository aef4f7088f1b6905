"""The debugger's one error: a command it cannot carry out."""


class DebugError(Exception):
    """A command the debugger cannot carry out; the message says why."""
