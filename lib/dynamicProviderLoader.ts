/**
 * The `__provider` text of a dynamic resource whose provider is a module of this project: a loader
 * that the dynamic-provider plugin (`@pulumi/pulumi/cmd/dynamic-provider`, which the CLI starts in
 * the project directory) runs to `require` the module, instead of the provider's serialized closure.
 * Why (the same as lib/npm/providerLoader.ts): the text is small and the same bytes everywhere (the
 * state keeps it with every resource), and the provider's code runs as written, not rewritten by
 * `serializeFunction` (which turns a captured `Error` subclass into a plain function:
 * ../shared/reality/pulumi-runtime.md). Consequences: `pulumi up`, `refresh` and `destroy` run from a
 * checkout of this repository after `npm ci`, and the module keeps its path (Read and Delete load
 * this text from the state).
 */

/**
 * CommonJS text exporting `handler`, which returns `exportName` of `module` (relative to the project
 * directory). `.ts` files are compiled with the project's `typescript` (types erased) when no loader
 * for them is registered yet.
 */
export function dynamicProviderLoader(module: string, exportName: string, resource: string): string {
  return `exports.handler = function () {
  var fs = require("fs"), path = require("path");
  var file = path.resolve(${JSON.stringify(module)});
  if (!fs.existsSync(file)) throw new Error(${JSON.stringify(`${resource}: `)} + file + " not found: run pulumi in the nodepoint project directory (where Pulumi.yaml is), after npm ci");
  if (!require.extensions[".ts"]) {
    var ts = require("typescript");
    require.extensions[".ts"] = function (m, f) {
      var out = ts.transpileModule(fs.readFileSync(f, "utf8"), { fileName: f, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
      m._compile(out.outputText, f);
    };
  }
  return require(file)[${JSON.stringify(exportName)}];
};
`;
}
