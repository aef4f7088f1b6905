"""Separate assembly: `.vo` objects, the linker and its map file."""
