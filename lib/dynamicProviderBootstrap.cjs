// Loads a dynamic provider of this project for the dynamic-provider plugin
// (`@pulumi/pulumi/cmd/dynamic-provider`, which the Pulumi CLI starts in the project directory). A
// resource's `__provider` text (lib/dynamicProviderLoader.ts) requires this file and asks it for the
// provider module; the module is compiled with the project's `typescript` (types erased, nothing
// checked: `npm test` type-checks) when no loader for `.ts` files is registered yet.
// Every such resource's state names this file and the module: both keep their paths.
"use strict";
const fs = require("fs");
const path = require("path");

module.exports = function loadProvider(module, exportName, resource) {
  const file = path.resolve(module);
  if (!fs.existsSync(file))
    throw new Error(
      `${resource}: ${file} not found: run pulumi in the project directory (where Pulumi.yaml is), after npm ci`,
    );
  if (!require.extensions[".ts"]) {
    const ts = require("typescript");
    require.extensions[".ts"] = function (m, f) {
      const out = ts.transpileModule(fs.readFileSync(f, "utf8"), {
        fileName: f,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      });
      m._compile(out.outputText, f);
    };
  }
  return require(file)[exportName];
};
