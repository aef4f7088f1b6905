;;; vasm-mode-tests.el --- ERT tests for vasm-mode  -*- lexical-binding: t; -*-

;;; Commentary:

;; Run: emacs --batch -L editors/emacs -l editors/emacs/vasm-mode-tests.el \
;;        -f ert-run-tests-batch-and-exit

;;; Code:

(require 'ert)
(require 'imenu)
(require 'vasm-mode)

(defconst vasm-test-sample
  (concat "# sample\n"
          ".scratch x\n"
          "N = 4\n"
          ".macro twice a\n"
          "    add           {a}, {a}, {a}\n"
          ".endm\n"
          "loop:\n"
          "    vmuladd       v, v, v, v\n"
          "    load          x, one\n"
          "    { vstore x, v; select x, x, x, x }\n"
          "    cond_jump     x, loop\n"
          "    jump          done\n"
          "    twice         x\n"
          "    comment       \"hi\"\n"
          "    const         @12, 0x1F\n"
          ".pin\n"
          "done: halt\n"
          "    compare       x, (0, 1, \"v\")\n")
  "Every construct the mode colours.")

(defun vasm-test-face (line text &optional nth)
  "The face at the NTH (default 1) occurrence of TEXT on LINE of the sample."
  (with-temp-buffer
    (insert vasm-test-sample)
    (vasm-mode)
    (font-lock-ensure)
    (goto-char (point-min))
    (forward-line (1- line))
    (let ((end (line-end-position)))
      (dotimes (_ (or nth 1))
        (search-forward text end))
      (get-text-property (- (point) (length text)) 'face))))

(defun vasm-test-has-face (face line text &optional nth)
  "Whether the face at TEXT on LINE is or includes FACE."
  (let ((got (vasm-test-face line text nth)))
    (or (eq got face) (and (listp got) (memq face got)))))

(ert-deftest vasm-mode-mnemonics-by-engine ()
  (should (vasm-test-has-face 'vasm-alu-face 5 "add"))
  (should (vasm-test-has-face 'vasm-valu-face 8 "vmuladd"))
  (should (vasm-test-has-face 'vasm-load-face 9 "load"))
  (should (vasm-test-has-face 'vasm-store-face 10 "vstore"))
  (should (vasm-test-has-face 'vasm-flow-face 10 "select"))
  (should (vasm-test-has-face 'vasm-control-face 11 "cond_jump"))
  (should (vasm-test-has-face 'vasm-control-face 12 "jump"))
  (should (vasm-test-has-face 'vasm-control-face 17 "halt"))
  (should (vasm-test-has-face 'vasm-debug-face 14 "comment"))
  (should (vasm-test-has-face 'vasm-debug-face 18 "compare"))
  (should (vasm-test-has-face 'vasm-load-face 15 "const")))

(ert-deftest vasm-mode-directives-labels-macros ()
  (should (vasm-test-has-face 'vasm-directive-face 2 ".scratch"))
  (should (vasm-test-has-face 'vasm-directive-face 4 ".macro"))
  (should (vasm-test-has-face 'vasm-directive-face 6 ".endm"))
  (should (vasm-test-has-face 'vasm-directive-face 16 ".pin"))
  (should (vasm-test-has-face 'font-lock-function-name-face 4 "twice"))
  (should (vasm-test-has-face 'font-lock-function-name-face 13 "twice"))
  (should (vasm-test-has-face 'vasm-label-face 7 "loop"))
  (should (vasm-test-has-face 'vasm-label-face 11 "loop"))
  (should (vasm-test-has-face 'vasm-label-face 12 "done"))
  (should (vasm-test-has-face 'vasm-label-face 17 "done"))
  (should (vasm-test-has-face 'font-lock-constant-face 3 "N")))

(ert-deftest vasm-mode-operands ()
  (should (vasm-test-has-face 'font-lock-comment-face 1 "sample"))
  (should (vasm-test-has-face 'vasm-substitution-face 5 "{a}"))
  (should (vasm-test-has-face 'vasm-bundle-face 10 "{"))
  (should (vasm-test-has-face 'font-lock-string-face 14 "hi"))
  (should (vasm-test-has-face 'vasm-address-face 15 "@12"))
  (should (vasm-test-has-face 'font-lock-constant-face 15 "0x1F"))
  (should-not (vasm-test-face 8 "v, v")))

(ert-deftest vasm-mode-comments-imenu-and-files ()
  (with-temp-buffer
    (insert vasm-test-sample)
    (vasm-mode)
    (should (equal comment-start "# "))
    (goto-char (point-min))
    (forward-line 1)
    (comment-line 1)
    (forward-line -1)
    (should (looking-at "# \\.scratch x"))
    (let ((index (funcall imenu-create-index-function)))
      (should (assoc "loop" (cdr (assoc "Labels" index))))
      (should (assoc "done" (cdr (assoc "Labels" index))))
      (should (assoc "twice" (cdr (assoc "Macros" index))))))
  (should (eq (cdr (assoc "\\.vasm\\'" auto-mode-alist)) 'vasm-mode)))

(provide 'vasm-mode-tests)
;;; vasm-mode-tests.el ends here
