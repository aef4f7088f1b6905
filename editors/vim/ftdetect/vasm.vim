" .vasm files: assembly for the take-home's VLIW SIMD machine.
autocmd BufRead,BufNewFile *.vasm setfiletype vasm
