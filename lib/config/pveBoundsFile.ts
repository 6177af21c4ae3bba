/**
 * The file of Proxmox VE limits guest and customer values are validated against:
 * `lib/config/pveBounds.generated.json`, a build-time artefact: its schema, its derivation and its
 * loader. The program uses it through lib/config/pveBounds.ts; the generator imports only this
 * module, so that it still runs when the file is missing or malformed.
 *
 * The limits come from the PVE API schema (`../shared/contracts/proxmox-ve/api-schema.json`, read by
 * lib/permissions/pveBounds.ts), which lives outside this project and may be absent where
 * `pulumi up` runs. So the program never reads the schema: `npm run generate` (lib/generate.ts) writes
 * the limits validation needs to the JSON file, which is committed, and `npm run generate -- --check`
 * (tests/generated.test.ts) fails when the file differs from a fresh derivation. This
 * module imports nothing that reads the schema; the derivation is lib/permissions/pveBoundsDerivation.ts.
 */
import * as path from "node:path";
import { z } from "zod";
import { GENERATE_COMMAND, readGeneratedJson } from "../generatedFile";

/** The generated file, next to this module. */
export const PVE_BOUNDS_FILE = path.join(__dirname, "pveBounds.generated.json");

const source = z.string().min(1);

/** An integer range: `max` absent when PVE sets no maximum. */
const rangeSchema = z
  .strictObject({
    /** The API method and parameter it comes from, for messages (`POST /nodes/{node}/lxc cores`). */
    source,
    min: z.number().int(),
    max: z.number().int().optional(),
  })
  .refine((r) => r.max === undefined || r.max >= r.min, "max is below min");

/** A string format: a regex for the whole value (JavaScript syntax, anchored) and its rule in words. */
const patternSchema = z
  .strictObject({
    source,
    pattern: z.string().regex(/^\^.*\$$/, "must be anchored (^...$)"),
    flags: z.enum(["", "i"]),
    rule: z.string().min(1),
    maxLength: z.number().int().positive().optional(),
  })
  .refine((p) => {
    try {
      new RegExp(p.pattern, p.flags);
      return true;
    } catch {
      return false;
    }
  }, "pattern is not a valid regular expression");

const pveBoundsFileSchema = z.strictObject({
  $comment: z.string(),
  /** Guest IDs (`pve-vmid`). */
  vmid: rangeSchema,
  /** One guest tag (of a `pve-tag-list`). */
  tag: patternSchema,
  /** Containers: host name, cores, memory in MiB. */
  lxc: z.strictObject({ hostname: patternSchema, cores: rangeSchema, memoryMiB: rangeSchema }),
  /** VMs: name, cores, memory in MiB. */
  qemu: z.strictObject({ name: patternSchema, cores: rangeSchema, memoryMiB: rangeSchema }),
  /** HA resources: restarts and relocations. */
  ha: z.strictObject({ maxRestart: rangeSchema, maxRelocate: rangeSchema }),
});

export type PveRange = z.infer<typeof rangeSchema>;
export type PvePattern = z.infer<typeof patternSchema>;
export type PveBoundsFile = z.infer<typeof pveBoundsFileSchema>;

/** The file's text: stable JSON, two-space indent, final newline. */
export function renderPveBoundsFile(file: PveBoundsFile): string {
  return `${JSON.stringify(pveBoundsFileSchema.parse(file), null, 2)}\n`;
}

/** Reads and validates the generated file; a malformed one is an error naming the regeneration command. */
export function loadPveBounds(file: string = PVE_BOUNDS_FILE): PveBoundsFile {
  return readGeneratedJson(file, pveBoundsFileSchema, GENERATE_COMMAND);
}
