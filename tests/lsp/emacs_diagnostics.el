;;; Run after the README's setup (init.el made by tests/test_lsp.py): opens
;;; $VASM_FILE, lets eglot start as it does after a command, waits for the
;;; diagnostics it hands flymake and prints them as LINE: MESSAGE.
(require 'eglot)
(find-file (getenv "VASM_FILE"))
(run-hooks 'post-command-hook)  ; (eglot-ensure starts the server after a command)
(let ((deadline (+ (float-time) 30)) (found nil))
  (while (and (not found) (< (float-time) deadline))
    (accept-process-output nil 0.2)
    (setq found (flymake-diagnostics)))
  (dolist (d found)
    (princ (format "%d: %s\n" (line-number-at-pos (flymake-diagnostic-beg d))
                   (flymake-diagnostic-text d))))
  (unless found (princ "no diagnostics\n")))
(kill-emacs 0)
