-- Neovim set up as editors/README.md says, for docs/img/make_screenshots.py:
-- the highlighting of editors/vim and `vasm lsp` attached, then a hover
-- opened at $VASM_HOVER (LINE:COL) once diagnostics arrive.
local editors = os.getenv("VASM_EDITORS")
vim.opt.runtimepath:append(editors .. "/vim")
vim.cmd("runtime! ftdetect/vasm.vim")  -- (--clean read ftdetect/ before the append)
vim.cmd("filetype plugin on")
vim.cmd("syntax on")
vim.api.nvim_set_hl(0, "NormalFloat", { ctermfg = 252, ctermbg = 237 })
vim.api.nvim_set_hl(0, "FloatBorder", { ctermfg = 244, ctermbg = 237 })
vim.lsp.handlers["textDocument/hover"] = vim.lsp.with(vim.lsp.handlers.hover,
                                                      { border = "rounded" })
vim.opt.number = true
vim.opt.signcolumn = "yes"
vim.opt.laststatus = 2
vim.opt.ruler = false
vim.opt.showmode = false
vim.opt.swapfile = false

local file = os.getenv("VASM_FILE")
vim.cmd("edit " .. file)
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({ name = "vasm", cmd = { "vasm", "lsp" },
                                   root_dir = vim.fn.fnamemodify(file, ":p:h") })
vim.lsp.buf_attach_client(buf, id)
vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50)

local line, col = string.match(os.getenv("VASM_HOVER"), "(%d+):(%d+)")
vim.api.nvim_win_set_cursor(0, { tonumber(line), tonumber(col) })
vim.cmd("normal! zt")
vim.cmd("normal! 8\025")  -- eight lines back (Ctrl-Y), from the macro's first line
vim.lsp.buf.hover()
