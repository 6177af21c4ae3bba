/**
 * Preloaded into the program's process by Pulumi.yaml (`nodeargs: --require ./lib/nodeCompileCache.cjs`):
 * Node's on-disk compile cache (node:module `enableCompileCache`, Node 22.8+; the directory is
 * NODE_COMPILE_CACHE, or node-compile-cache in the temporary directory), so that each `pulumi preview`
 * and `pulumi up` on the same machine (an engineer's, the deploy runner) reuses the V8 code of the
 * SDK, TypeScript (which ts-node loads to transpile) and the providers instead of compiling them
 * again: about 0.27 s of the program's 1.7 s start-up (README, "Scale").
 */
require("node:module").enableCompileCache?.();
