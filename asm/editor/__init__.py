"""Editor support: the Pygments lexer and the generated editor files."""
