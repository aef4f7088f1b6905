"""Other views of kernels and sources: the disassembler, the formatter, the
take-home importer, the differ and the listing."""
