"""The assembler's stages, text to Kernel: syntax (text -> lines of nodes),
expand (includes, macros, loops, conditionals -> items), lower (items -> IR),
layout (scratch addresses), resolve (IR -> Kernel); `assembler` runs them."""
