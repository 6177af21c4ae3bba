/**
 * The `__provider` text of a dynamic resource whose provider is a module of this project: a line
 * the dynamic-provider plugin (`@pulumi/pulumi/cmd/dynamic-provider`, which the CLI starts in the
 * project directory) runs, requiring lib/dynamicProviderBootstrap.cjs to load the module, instead
 * of the provider's serialized closure. Why: the state keeps this text with every such resource, in
 * its inputs and its outputs (a serialized closure was 27-30 KB; this is under 170 bytes, the same
 * bytes everywhere), and the provider's code runs as written, not rewritten by `serializeFunction`
 * (which turns a captured `Error` subclass into a plain function: ../shared/reality/pulumi-runtime.md).
 * Consequences: `pulumi up`, `refresh` and `destroy` run from a checkout of this repository after
 * `npm ci`, and the bootstrap file and the module keep their paths (Read and Delete load this text
 * from the state).
 */

/** The bootstrap the text requires, relative to the project directory. */
export const DYNAMIC_PROVIDER_BOOTSTRAP = "lib/dynamicProviderBootstrap.cjs";

/**
 * CommonJS text exporting `handler`, which returns `exportName` of `module` (relative to the project
 * directory); `resource` names the resource type in the error when the module is not found. Run
 * outside the project directory, it fails with Node's "Cannot find module
 * '<directory>/lib/dynamicProviderBootstrap.cjs'", naming the directory it ran in.
 */
export function dynamicProviderLoader(module: string, exportName: string, resource: string): string {
  const args = [module, exportName, resource].map((a) => JSON.stringify(a)).join(",");
  return `exports.handler=function(){return require(process.cwd()+${JSON.stringify(`/${DYNAMIC_PROVIDER_BOOTSTRAP}`)})(${args})};\n`;
}
