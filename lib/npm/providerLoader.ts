/**
 * The `__provider` text of every NpmProxyHost: what the dynamic-provider host
 * (`@pulumi/pulumi/cmd/dynamic-provider`, the `pulumi-resource-pulumi-nodejs` plugin) loads to
 * serve the resource, and what the state keeps with each resource, in its inputs and its outputs.
 *
 * It is a loader (lib/dynamicProviderLoader.ts), not the provider's code. Pulumi's default is to
 * serialize the provider's closure into that text (`pulumi.runtime.serializeFunction`): 29.6 KB per
 * resource here, twice per resource in the state, changing with the compiler that ran the program,
 * and rewriting code on the way (an `Error` subclass came back as a plain function, so every error
 * path failed only once serialized: `../shared/reality/pulumi-runtime.md`). This text is the same
 * bytes everywhere and under 100 bytes; the code it loads is `lib/npm/proxyHostProvider.ts` as it is
 * in the checkout, compiled with the project's TypeScript, unchanged by any serializer.
 *
 * The CLI starts the plugin in the project directory (the directory of Pulumi.yaml), so the module
 * is found relative to it. Consequences: `pulumi up`, `refresh` and `destroy` run from a checkout
 * of this repository with `npm ci` done (they need it for the program anyway), and the provider's
 * file keeps its path (a resource's Read and Delete load this same text from its state).
 */
import { dynamicProviderLoader } from "../dynamicProviderLoader";

/** CommonJS text exporting `handler`, which returns the provider. */
export const PROVIDER_LOADER = dynamicProviderLoader("NpmProxyHost");
