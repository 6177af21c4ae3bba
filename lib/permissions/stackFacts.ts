/**
 * The project's stacks and their cluster facts, read offline from the `Pulumi.<stack>.yaml` files
 * (for `scripts/generate-roles.ts` and the tests; the program itself never reads these: it loads
 * the generated roles file of its stack, see accessScopes.ts).
 */
import { PROJECT_ROOT, stackConfigOf } from "../config/stacks";
import { clusterFactsOf, type ClusterFacts } from "./clusterFacts";

export { PROJECT_ROOT, projectStacks, stackConfigOf } from "../config/stacks";

/** The cluster facts of one stack. */
export function stackClusterFacts(stack: string, root: string = PROJECT_ROOT): ClusterFacts {
  return clusterFactsOf(stackConfigOf(stack, root));
}
