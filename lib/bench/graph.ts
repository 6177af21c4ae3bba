import type { RecordedResource } from "../plan/offlineRuntime";

/**
 * Depth of the dependency graph: the longest chain of resources each of which waits for the next
 * (explicit and input dependencies, and the parent). It bounds how many sequential steps `pulumi up`
 * needs, whatever the parallelism.
 */
export function graphDepth(resources: readonly RecordedResource[]): number {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const memo = new Map<string, number>();
  const depth = (urn: string): number => {
    const known = memo.get(urn);
    if (known !== undefined) return known;
    memo.set(urn, 0); // cycle guard
    const r = byUrn.get(urn);
    if (!r) return 0;
    const deps = [...r.options.dependsOn, ...(r.parent ? [r.parent] : [])].filter((u) => byUrn.has(u));
    const d = 1 + Math.max(0, ...deps.map(depth));
    memo.set(urn, d);
    return d;
  };
  return Math.max(0, ...resources.map((r) => depth(r.urn)));
}
