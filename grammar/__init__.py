"""Package data: the .vasm grammar (vasm.lark)."""
