/**
 * The seed's subdomain rule for an order (../shared/seed-system/provisioning.md, "Allocation rules"):
 * the part of the customer's e-mail before `@`, lower-cased, stripped to letters, digits and hyphens;
 * on a collision a short random suffix. The subdomain is also the customer's slug (file name,
 * container host name, resource names), so it must be a valid slug. Pure: randomness is passed in.
 */
import { randomInt } from "node:crypto";
import { SLUG_PATTERN } from "./schema";

/** Letters of a collision suffix: lower-case letters and digits. */
const SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
/** Characters in a collision suffix: 36^4 = 1.7 million choices. */
export const SUFFIX_LENGTH = 4;
/** Longest subdomain taken from an e-mail, leaving room for `-` and the suffix within a 63-character label. */
export const SUBDOMAIN_BASE_MAX = 40;
/** Used when nothing of the e-mail's local part survives the rule (e.g. `+++@example.org`). */
export const FALLBACK_SUBDOMAIN = "site";

/**
 * The subdomain an e-mail asks for, before any collision suffix: local part, lower-cased, only
 * `a-z`, `0-9` and `-` kept, hyphens not leading or trailing, at most SUBDOMAIN_BASE_MAX characters.
 */
export function subdomainFromEmail(email: string): string {
  const at = email.lastIndexOf("@");
  const local = (at >= 0 ? email.slice(0, at) : email).toLowerCase();
  const kept = local.replace(/[^a-z0-9-]/g, "");
  const trimmed = kept.slice(0, SUBDOMAIN_BASE_MAX).replace(/^-+/, "").replace(/-+$/, "");
  return SLUG_PATTERN.test(trimmed) ? trimmed : FALLBACK_SUBDOMAIN;
}

/** A random collision suffix (crypto-grade, so suffixes cannot be predicted from earlier ones). */
export function randomSuffix(): string {
  let s = "";
  for (let i = 0; i < SUFFIX_LENGTH; i++) s += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return s;
}

/**
 * Candidate subdomains for an e-mail, in the order they are tried: the base, then the base with a
 * random suffix, `attempts` times in all.
 */
export function subdomainCandidates(email: string, suffix: () => string, attempts: number): string[] {
  const base = subdomainFromEmail(email);
  const out = [base];
  while (out.length < attempts) out.push(`${base}-${suffix()}`);
  return out;
}
