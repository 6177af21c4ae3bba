import type * as pulumi from "@pulumi/pulumi";
import { adoptionIgnores, replacementOptions, type TypeName } from "../lib/providerFacts";

/** What the program knows about an existing object it should adopt rather than create. */
export interface Adoption {
  /** Adopt the existing object on the next `pulumi up` (`import`). */
  adopt: boolean;
  /** The provider's import ID for it (`<node>/<vmid>` for a guest). */
  importId: string;
  /** Further inputs to leave as the object has them, beyond the provider facts (e.g. figures the seed does not state). */
  alsoIgnore?: readonly string[];
}

/**
 * Resource options for a stateful object: always protected, replaced delete-first where the type keeps
 * its name (a fixed VMID: lib/providerFacts.ts `deleteFirst`); adopted ones carry `import` and ignore
 * what the importer cannot read back as declared (lib/providerFacts.ts: the type's adoption facts,
 * and every provider-defaulted input `args` leaves undeclared, so the live value stays). Pulumi keeps
 * `import` as a no-op once the object is in the state, so the flag may stay set for good.
 */
export function statefulOptions(
  type: TypeName,
  args: object,
  base: pulumi.CustomResourceOptions,
  adoption: Adoption,
): pulumi.CustomResourceOptions {
  const stateful = { ...base, protect: true, ...replacementOptions(type) };
  if (!adoption.adopt) return stateful;
  const ignoreChanges = [
    ...new Set([...adoptionIgnores(type, args as Record<string, unknown>), ...(adoption.alsoIgnore ?? [])]),
  ];
  return { ...stateful, import: adoption.importId, ignoreChanges };
}
