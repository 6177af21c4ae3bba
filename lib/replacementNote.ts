/**
 * The note a customer container's description carries while a confirmed replacement is pending
 * (lib/customers/replacement.ts): operators see it in PVE's UI, and the policy pack recognises the
 * container whose protection was lifted on purpose. No imports: the policy pack loads it as it is.
 */

/** How the note starts. */
export const REPLACEMENT_PENDING = "Replacement confirmed";

/** The note for a container whose fields change `from` -> `to` on the next merge. */
export function replacementPendingNote(changes: ReadonlyArray<{ field: string; from: unknown; to: unknown }>): string {
  const what = changes.map((c) => `${c.field} ${String(c.from)} -> ${String(c.to)}`).join(", ");
  return `${REPLACEMENT_PENDING} (${what}): protection lifted; the next merge destroys and re-creates this container.`;
}
