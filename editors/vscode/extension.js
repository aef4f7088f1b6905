// Starts `vasm lsp` for .vasm files, so VS Code shows what the assembler
// says (diagnostics, hover, completion, cycles as inlay hints...).
// Highlighting stays the TextMate grammar's; this file only wires the client.
"use strict";

const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

// How to start the server: `vasm.server.path` (default: `vasm` on PATH).
function serverOptions(config) {
  const command = config.get("server.path") || "vasm";
  return { command, args: ["lsp"] };  // over stdin and stdout, the default
}

// What `vasm lsp` reads at initialization; a vasm.toml beside a file adds to it.
function clientOptions(config) {
  return {
    documentSelector: [
      { scheme: "file", language: "vasm" },
      { scheme: "untitled", language: "vasm" },
    ],
    initializationOptions: {
      defines: config.get("defines") || {},
      include: config.get("include") || [],
      schedule: config.get("schedule") || false,
      level: config.get("level") || 2,
    },
  };
}

async function start() {
  const config = vscode.workspace.getConfiguration("vasm");
  if (!config.get("server.enable", true)) {
    return undefined;
  }
  client = new LanguageClient("vasm", "vasm language server",
                              serverOptions(config), clientOptions(config));
  await client.start();
  return client;
}

async function stop() {
  if (client) {
    const running = client;
    client = undefined;
    await running.stop();
  }
}

async function activate(context) {
  // Options are read once at start: restart the server when they change.
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration(async (event) => {
    if (event.affectsConfiguration("vasm")) {
      await stop();
      await start();
    }
  }));
  context.subscriptions.push(vscode.commands.registerCommand("vasm.restartServer", async () => {
    await stop();
    await start();
  }));
  try {
    return await start();
  } catch (error) {
    vscode.window.showErrorMessage(
      `vasm: could not start \`vasm lsp\` (${error.message || error}); ` +
      "install the toolchain or set vasm.server.path");
    return undefined;
  }
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate, serverOptions, clientOptions };
