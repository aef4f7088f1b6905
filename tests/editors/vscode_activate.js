// Activates the built VS Code extension (dist/extension.js) outside VS Code:
// `vscode` is a stub that answers every call, the language client is the real
// vscode-languageclient bundled into the extension, the server is whatever
// the extension starts (`vasm lsp`). Prints what the server said, as JSON.
//   node vscode_activate.js EXTENSION_JS SETTINGS_JSON FILE_TO_OPEN LINE:CHARACTER_TO_HOVER
"use strict";

const Module = require("module");
const fs = require("fs");
const url = require("url");

const [extensionJs, settingsJson, openFile, hoverAt] = process.argv.slice(2);
const [hoverLine, hoverCharacter] = hoverAt.split(":").map(Number);
const settings = JSON.parse(settingsJson);
const started = [];  // commands the extension registered
const errors = [];  // what it showed the user as errors

// What the language client reads as data (what VS Code itself would say).
const DATA = {
  version: "1.90.0", language: "en", appName: "Visual Studio Code (stub)", uriScheme: "vscode",
  machineId: "test", sessionId: "test", workspaceFolders: undefined, textDocuments: [],
};

// Any property is another stub and any call returns one, except what a
// caller would read as data.
function stub(name) {
  const target = function () {};
  return new Proxy(target, {
    get(_, key) {
      if (key === "then") return undefined;  // not a promise
      if (key === Symbol.iterator) return function* () {};
      if (key === Symbol.toPrimitive) return () => name;
      if (key === "length") return 0;
      if (key in DATA) return DATA[key];
      if (key === "getConfiguration") {
        return (section) => ({
          get: (k, fallback) => {
            const v = section === "vasm" ? settings[k] : undefined;
            return v === undefined ? fallback : v;
          },
        });
      }
      if (key === "showErrorMessage") {
        return (message) => { errors.push(message); return Promise.resolve(undefined); };
      }
      if (key === "registerCommand") {
        return (command) => { started.push(command); return stub("disposable"); };
      }
      return stub(`${name}.${String(key)}`);
    },
    apply() { return stub(`${name}()`); },
    construct() { return stub(`new ${name}`); },
  });
}

const vscode = stub("vscode");
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === "vscode" ? vscode : load.call(this, request, ...rest);
};

(async () => {
  const extension = require(extensionJs);
  const client = await extension.activate({ subscriptions: [] });
  if (!client) {
    process.stdout.write(JSON.stringify({ commands: started, errors }));
    return;
  }
  const uri = url.pathToFileURL(openFile).href;
  await client.sendNotification("textDocument/didOpen", {
    textDocument: { uri, languageId: "vasm", version: 1, text: fs.readFileSync(openFile, "utf8") },
  });
  const hover = await client.sendRequest("textDocument/hover", {
    textDocument: { uri }, position: { line: hoverLine, character: hoverCharacter },
  });
  const lens = await client.sendRequest("textDocument/codeLens", { textDocument: { uri } });
  const out = {
    commands: started,
    errors,
    server: client.initializeResult.serverInfo,
    capabilities: Object.keys(client.initializeResult.capabilities).sort(),
    hover: hover && hover.contents.value,
    lens: lens.map((l) => l.command && l.command.title),
  };
  await extension.deactivate();
  process.stdout.write(JSON.stringify(out));
})().catch((error) => {
  process.stderr.write(String(error && error.stack || error));
  process.exit(1);
});
