/**
 * The Proxmox VE limits guest and customer values are validated against, as the program reads them
 * (`lib/config/pveBounds.generated.json`, loaded and validated once, see pveBoundsFile.ts), with the
 * zod types and checks that apply them. Every message names the limit and the API parameter it
 * comes from; the caller's problem names the file and field.
 *
 * Nothing here reads the PVE API schema: the program must run where `../shared` is absent.
 */
import { z } from "zod";
import { loadPveBounds, type PveBoundsFile, type PvePattern, type PveRange } from "./pveBoundsFile";

/** The limits, read once when this module is loaded. */
export const PVE_BOUNDS: PveBoundsFile = loadPveBounds();

/** A pattern bound as a RegExp (whole value). */
export function regExpOf(p: PvePattern): RegExp {
  return new RegExp(p.pattern, p.flags);
}

function minMessage(r: PveRange, unit: string): string {
  return `must be at least ${r.min}${unit}: Proxmox VE refuses less (${r.source})`;
}

function maxMessage(r: PveRange, unit: string): string {
  return `must be at most ${r.max}${unit}: Proxmox VE refuses more (${r.source})`;
}

/** An integer inside a PVE range, with messages naming the limit and where it comes from. `unit` e.g. " MiB". */
export function pveInt(r: PveRange, unit = ""): z.ZodNumber {
  const n = z.number().int().min(r.min, minMessage(r, unit));
  return r.max === undefined ? n : n.max(r.max, maxMessage(r, unit));
}

/** A string PVE accepts for a pattern bound; `what` names it in messages (`host name`, `tag`). */
export function pveString(p: PvePattern, what: string): z.ZodString {
  const s = z.string().regex(regExpOf(p), patternMessage(p, what));
  return p.maxLength === undefined ? s : s.max(p.maxLength, lengthMessage(p, what));
}

function patternMessage(p: PvePattern, what: string): string {
  return `must be a ${what} Proxmox VE accepts: ${p.rule} (${p.source})`;
}

function lengthMessage(p: PvePattern, what: string): string {
  return `must be a ${what} of at most ${p.maxLength} characters: Proxmox VE refuses longer ones (${p.source})`;
}

/** Why a value is not a `what` PVE accepts (`must be ...`), or undefined when it is (for checks outside zod). */
export function patternProblem(p: PvePattern, what: string, value: string): string | undefined {
  if (p.maxLength !== undefined && value.length > p.maxLength) return lengthMessage(p, what);
  if (!regExpOf(p).test(value)) return patternMessage(p, what);
  return undefined;
}
