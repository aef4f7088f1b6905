// Tokenize a file with the real TextMate engine VS Code uses and print, for
// every line, its tokens as [start, end, scopes] (JSON). Usage:
//   node tm_tokenize.js GRAMMAR.json FILE.vasm   (NODE_PATH holds the modules)
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const [grammarPath, filePath] = process.argv.slice(2);
const wasm = fs.readFileSync(
  path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm")).buffer;

const registry = new vsctm.Registry({
  onigLib: oniguruma.loadWASM(wasm).then(() => ({
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (s) => new oniguruma.OnigString(s),
  })),
  loadGrammar: async () =>
    vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath),
});

registry.loadGrammar("source.vasm").then((grammar) => {
  let state = vsctm.INITIAL;
  const out = [];
  for (const line of fs.readFileSync(filePath, "utf8").split("\n")) {
    const r = grammar.tokenizeLine(line, state);
    out.push(r.tokens.map((t) => [t.startIndex, t.endIndex, t.scopes]));
    state = r.ruleStack;
  }
  console.log(JSON.stringify(out));
});
