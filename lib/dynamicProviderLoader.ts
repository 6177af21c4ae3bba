/**
 * The `__provider` text of a dynamic resource whose provider is a module of this project: a line
 * the dynamic-provider plugin (`@pulumi/pulumi/cmd/dynamic-provider`, which the CLI starts in the
 * project directory) runs, requiring lib/dynamicProviderBootstrap.cjs to load the provider by its
 * name in DYNAMIC_PROVIDERS, instead of the provider's serialized closure. Why: the state keeps this
 * text with every such resource, in its inputs and its outputs (a serialized closure was 27-30 KB;
 * this is under 100 bytes, the same bytes everywhere), and the provider's code runs as written, not
 * rewritten by `serializeFunction` (which turns a captured `Error` subclass into a plain function:
 * ../shared/reality/pulumi-runtime.md). The state names the provider, not its file: a module may
 * move, its entry here moves with it.
 * Consequences: `pulumi up`, `refresh` and `destroy` run from a checkout of this repository after
 * `npm ci`; the bootstrap file and this file keep their paths, and a name once in a state stays here
 * (Read and Delete load this text from the state).
 */

/** The bootstrap the text requires, relative to the project directory. */
export const DYNAMIC_PROVIDER_BOOTSTRAP = "lib/dynamicProviderBootstrap.cjs";

/**
 * The project's dynamic providers by name (the resource type's last part): the module, relative to
 * the project directory, and its export. The bootstrap reads this table (this file has no imports:
 * it loads anywhere).
 */
export const DYNAMIC_PROVIDERS = {
  NpmProxyHost: { module: "lib/npm/proxyHostProvider.ts", export: "proxyHostProvider" },
  PveStorage: { module: "lib/pve/storageProvider.ts", export: "storageProvider" },
  PveBackupJob: { module: "lib/pve/backupJobProvider.ts", export: "backupJobProvider" },
  PveSnapshot: { module: "lib/pve/snapshotProvider.ts", export: "snapshotProvider" },
} as const;

export type DynamicProviderName = keyof typeof DYNAMIC_PROVIDERS;

/**
 * CommonJS text exporting `handler`, which returns the provider `name`. Run outside the project
 * directory, it fails with Node's "Cannot find module '<directory>/lib/dynamicProviderBootstrap.cjs'",
 * naming the directory it ran in.
 */
export function dynamicProviderLoader(name: DynamicProviderName): string {
  return `exports.handler=()=>require(process.cwd()+${JSON.stringify(`/${DYNAMIC_PROVIDER_BOOTSTRAP}`)})(${JSON.stringify(name)})`;
}
