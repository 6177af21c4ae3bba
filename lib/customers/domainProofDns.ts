/**
 * Looks up what `judgeDomainProof` (lib/customers/customDomains.ts) decides on: the TXT records at
 * `_nodepoint-verification.<domain>` and the domain's IPv4 addresses, through the system's resolver
 * or the given DNS servers (`IP` or `IP:PORT`). A name without such records answers none; a resolver
 * that fails (SERVFAIL, timeout, refused) is an error naming the query, never read as "no record".
 */
import { Resolver } from "node:dns/promises";
import { proofRecord, type DomainDnsAnswers } from "./customDomains";

/** Answers that mean "the name has no such record" (node:dns error codes). */
const NO_RECORD = new Set(["ENODATA", "ENOTFOUND"]);

async function query<T>(what: string, run: () => Promise<T[]>): Promise<T[]> {
  try {
    return await run();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    if (NO_RECORD.has(code)) return [];
    throw new Error(`DNS lookup of ${what} failed (${code || (err as Error).message}): try again later`, {
      cause: err,
    });
  }
}

export async function lookUpDomainProof(
  domain: string,
  options: { servers?: string[]; timeoutMs?: number } = {},
): Promise<DomainDnsAnswers> {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 5_000, tries: 2 });
  if (options.servers?.length) resolver.setServers(options.servers);
  const txtName = proofRecord(domain, "").name;
  const [txt, addresses] = await Promise.all([
    query(`TXT ${txtName}`, () => resolver.resolveTxt(txtName)),
    query(`A ${domain}`, () => resolver.resolve4(domain)),
  ]);
  // A TXT record is a list of strings of at most 255 octets each: its value is their concatenation.
  return { proofTxt: txt.map((chunks) => chunks.join("")), addresses };
}
