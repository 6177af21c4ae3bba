// Loads a dynamic provider of this project for the dynamic-provider plugin
// (`@pulumi/pulumi/cmd/dynamic-provider`, which the Pulumi CLI starts in the project directory). A
// resource's `__provider` text (lib/dynamicProviderLoader.ts) requires this file and asks it for a
// provider by name; the table of names (DYNAMIC_PROVIDERS in lib/dynamicProviderLoader.ts) gives its
// module. Modules are compiled with the project's `typescript` (types erased, nothing checked:
// `npm test` type-checks) when no loader for `.ts` files is registered yet.
// Every such resource's state names this file: it keeps its path.
"use strict";
const fs = require("fs");
const path = require("path");

const TABLE = "lib/dynamicProviderLoader.ts";

function loadTypeScript() {
  if (require.extensions[".ts"]) return;
  const ts = require("typescript");
  require.extensions[".ts"] = function (m, f) {
    const out = ts.transpileModule(fs.readFileSync(f, "utf8"), {
      fileName: f,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    m._compile(out.outputText, f);
  };
}

function mustExist(file, name) {
  if (!fs.existsSync(file))
    throw new Error(
      `${name}: ${file} not found: run pulumi in the project directory (where Pulumi.yaml is), after npm ci`,
    );
  return file;
}

module.exports = function loadProvider(name) {
  loadTypeScript();
  const table = require(mustExist(path.resolve(TABLE), name)).DYNAMIC_PROVIDERS;
  const entry = Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
  if (!entry) throw new Error(`${name}: no dynamic provider of that name in ${TABLE} (DYNAMIC_PROVIDERS)`);
  return require(mustExist(path.resolve(entry.module), name))[entry.export];
};
