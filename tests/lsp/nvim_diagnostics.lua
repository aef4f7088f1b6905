-- Opens $VASM_FILE in a headless Neovim, attaches `vasm lsp` and prints the
-- diagnostics it publishes as LINE:COL: MESSAGE (tests/test_lsp.py). Neovim 0.7
-- (Debian's) has start_client + buf_attach_client; 0.8+ also has vim.lsp.start.
local file = os.getenv("VASM_FILE")
vim.cmd("edit " .. file)
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({ name = "vasm", cmd = { "vasm", "lsp" },
                                   root_dir = vim.fn.fnamemodify(file, ":p:h") })
vim.lsp.buf_attach_client(buf, id)
local ok = vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 100)
for _, d in ipairs(vim.diagnostic.get(buf)) do
  io.stdout:write(string.format("%d:%d: %s\n", d.lnum + 1, d.col + 1, d.message))
end
if not ok then io.stdout:write("no diagnostics\n") end
vim.cmd("qa!")
