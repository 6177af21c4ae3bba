/**
 * When a certificate NPM reports is one a site can serve HTTPS with. Pure.
 *
 * NPM inserts a Let's Encrypt certificate's row before it runs certbot, with `expires_on` equal to
 * the insert time, and deletes the row only if certbot fails: while certbot runs (seconds to
 * minutes) the row is listed like any other. A host may also keep the id of a certificate that
 * was deleted (`certificate: null` when expanded). Only a row that exists, is not being issued and
 * has not expired counts.
 */
import type { Certificate } from "./client";

/** What a certificate is good for right now. */
export type CertificateState = "usable" | "missing" | "being-issued" | "expired";

/** NPM's dates: `YYYY-MM-DD HH:mm:ss` in UTC (its database format) or ISO 8601. Epoch ms, NaN when unreadable. */
export function parseNpmTime(text: string): number {
  const plain = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/.exec(text);
  return plain ? Date.parse(`${plain[1]}T${plain[2]}Z`) : Date.parse(text);
}

/** The state of `cert` (the row NPM returned, `null`/`undefined` when none) at `now` (epoch ms). */
export function certificateState(cert: Certificate | null | undefined, now: number): CertificateState {
  if (!cert) return "missing";
  const created = parseNpmTime(cert.created_on);
  const expires = parseNpmTime(cert.expires_on);
  if (Number.isNaN(expires)) return "missing";
  // The row NPM inserts before certbot runs expires when it was created.
  if (!Number.isNaN(created) && expires <= created) return "being-issued";
  return expires > now ? "usable" : "expired";
}

/**
 * A row still "being issued" long after any certbot run could have ended (NPM stopped mid-run)
 * will never become a certificate: it must not hold anything up.
 */
export function isAbandonedIssuance(cert: Certificate, now: number, longestIssuanceMs: number): boolean {
  return certificateState(cert, now) === "being-issued" && now - parseNpmTime(cert.created_on) > longestIssuanceMs;
}

/** True when `cert` names every one of `domains` (case-insensitive). */
export function coversDomains(cert: Certificate, domains: readonly string[]): boolean {
  const names = new Set(cert.domain_names.map((d) => d.toLowerCase()));
  return domains.every((d) => names.has(d.toLowerCase()));
}
