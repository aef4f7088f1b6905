" Write the syntax group of every character of a buffer, one line per line,
" '|' between columns. Run: vim -Es -u NONE -i NONE -N --cmd 'let g:rtp=...'
"   -c 'source vim_groups.vim' (g:vasm_rtp, g:vasm_sample, g:vasm_out set first).
let &runtimepath = g:vasm_rtp . ',' . &runtimepath
filetype plugin on
syntax on
execute 'edit ' . fnameescape(g:vasm_sample)
let s:out = [&filetype, &commentstring]
for s:l in range(1, line('$'))
  let s:cols = []
  for s:c in range(1, col([s:l, '$']) - 1)
    call add(s:cols, synIDattr(synID(s:l, s:c, 1), 'name'))
  endfor
  call add(s:out, join(s:cols, '|'))
endfor
call writefile(s:out, g:vasm_out)
qall!
