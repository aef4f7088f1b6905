-- Run after Neovim has opened a .vasm file with the README's setup (init.lua
-- made by tests/test_lsp.py): waits for `vasm lsp`'s diagnostics and prints
-- them as LINE:COL: MESSAGE.
local buf = vim.api.nvim_get_current_buf()
local ok = vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 100)
for _, d in ipairs(vim.diagnostic.get(buf)) do
  io.stdout:write(string.format("%d:%d: %s\n", d.lnum + 1, d.col + 1, d.message))
end
if not ok then io.stdout:write("no diagnostics (filetype " .. vim.bo.filetype .. ")\n") end
vim.cmd("qa!")
