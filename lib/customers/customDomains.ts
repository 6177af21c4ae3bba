/**
 * A customer's own domains (`customDomains` in the customer file), served by the site's proxy (a proxy
 * host with its own certificate) once the customer proved the domain is theirs, as the seed's platform
 * does. DNS for them stays the customer's: the platform writes no record of theirs.
 *
 * The proof is a DNS TXT record the customer publishes: `_nodepoint-verification.<domain>` with the
 * value `nodepoint-verification=<proof>`, `<proof>` a random token `customer add-domain` writes into
 * the file. `customer verify-domain` looks it up (and that the domain points at the public ingress,
 * which the certificate's HTTP challenge needs) and records `verifiedAt` in the file; the plan
 * declares a proxy host only for a verified domain. Pure, but for `newDomainProof` (random).
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { InputProblem } from "../errors";
import { hostNameProblems } from "./hostNames";

/** The label under the domain where the proof is published. */
export const PROOF_RECORD_LABEL = "_nodepoint-verification";
/** What the TXT record's value starts with; the proof follows. */
export const PROOF_VALUE_PREFIX = "nodepoint-verification=";

/** One custom domain in a customer file. */
export const customDomainSchema = z.strictObject({
  /** The customer's own host name (ASCII), e.g. www.example.com. */
  domain: z
    .string()
    .superRefine((domain, ctx) => {
      for (const message of hostNameProblems(domain)) ctx.addIssue({ code: "custom", message });
    })
    .meta({ description: "The customer's own host name (ASCII; punycode for an internationalized name)" }),
  /** The token the TXT record must carry (written by `customer add-domain`). */
  proof: z
    .string()
    .regex(/^[0-9a-f]{32}$/, "must be the 32 hex digits `customer add-domain` wrote")
    .meta({
      description:
        "Token of the ownership proof: TXT _nodepoint-verification.<domain> = nodepoint-verification=<proof>",
    }),
  /** When `customer verify-domain` found the proof (ISO 8601, UTC); absent: not proven, not served. */
  verifiedAt: z.iso.datetime().optional().meta({
    description: "When the ownership proof was found (written by customer verify-domain); absent: not served",
  }),
});
export type CustomDomainEntry = z.infer<typeof customDomainSchema>;

/** A custom domain as the program sees it after validation. */
export interface CustomDomain {
  domain: string;
  /** Proven (verifiedAt recorded): served by a proxy host. */
  verified: boolean;
}

/** A new random proof token. */
export function newDomainProof(): string {
  return randomBytes(16).toString("hex");
}

/** The TXT record the customer publishes to prove `domain` is theirs. */
export function proofRecord(domain: string, proof: string): { name: string; value: string } {
  return { name: `${PROOF_RECORD_LABEL}.${domain.toLowerCase()}`, value: `${PROOF_VALUE_PREFIX}${proof}` };
}

/** The field path of entry `i`, as messages name it. */
export const customDomainField = (i: number, key?: string): string => `customDomains[${i}]${key ? `.${key}` : ""}`;

/**
 * Problems of one file's custom domains that the file alone shows (each naming the field): over the
 * plan's quota, a domain inside one of the stack's Cloudflare zones (those are the platform's: the
 * site's own `domain` is made there), a domain twice.
 */
export function customDomainProblems(
  entries: readonly CustomDomainEntry[],
  site: { plan: string; quota: number },
  zones: readonly string[],
): Array<{ field: string; message: string }> {
  const problems: Array<{ field: string; message: string }> = [];
  if (entries.length > site.quota)
    problems.push({
      field: "customDomains",
      message: `${entries.length} custom domains, but the ${site.plan} plan allows ${site.quota} (nodepoint:plans.${site.plan}.customDomains): remove one, or move to a bigger plan`,
    });
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    const d = e.domain.toLowerCase();
    const zone = zones.find((z) => d === z || d.endsWith(`.${z}`));
    if (zone)
      problems.push({
        field: customDomainField(i, "domain"),
        message: `${e.domain} is inside the platform's zone ${zone}: a custom domain is the customer's own (a name in ${zone} is a site's domain)`,
      });
    const first = seen.get(d);
    if (first !== undefined)
      problems.push({
        field: customDomainField(i, "domain"),
        message: `${e.domain} is listed twice (also ${customDomainField(first)})`,
      });
    else seen.set(d, i);
  });
  return problems;
}

/** The custom domains the program serves and lists, from valid entries. */
export function customDomainsOf(entries: readonly CustomDomainEntry[] | undefined): CustomDomain[] {
  return (entries ?? []).map((e) => ({ domain: e.domain.toLowerCase(), verified: e.verifiedAt !== undefined }));
}

/** The names a site answers on: its domain, then its proven custom domains (GET /status `domains`). */
export function servedDomains(file: {
  domain: string;
  customDomains?: readonly CustomDomainEntry[] | undefined;
}): string[] {
  return [
    file.domain.toLowerCase(),
    ...customDomainsOf(file.customDomains)
      .filter((d) => d.verified)
      .map((d) => d.domain),
  ];
}

// ---------------------------------------------------------------------------------------------
// The proof

/** What DNS answered about a domain: its TXT proof records and the IPv4 addresses it resolves to. */
export interface DomainDnsAnswers {
  /** TXT records at `_nodepoint-verification.<domain>`, each joined from its strings; none: []. */
  proofTxt: string[];
  /** A records of the domain (through a CNAME); none: []. */
  addresses: string[];
}

/**
 * Whether DNS proves `domain` is the customer's and points it at the platform: the TXT record with
 * this proof, and an address that is the public ingress (the certificate's HTTP challenge reaches
 * NPM only then). Each missing piece is named with what to publish.
 */
export function judgeDomainProof(
  domain: string,
  proof: string,
  answers: DomainDnsAnswers,
  publicIp: string,
): { ok: true } | { ok: false; missing: string[] } {
  const record = proofRecord(domain, proof);
  const missing: string[] = [];
  if (!answers.proofTxt.some((t) => t.trim() === record.value))
    missing.push(
      answers.proofTxt.length === 0
        ? `no TXT record at ${record.name}: publish ${record.name} TXT "${record.value}"`
        : `the TXT records at ${record.name} (${answers.proofTxt.map((t) => JSON.stringify(t)).join(", ")}) do not hold "${record.value}"`,
    );
  if (!answers.addresses.includes(publicIp))
    missing.push(
      answers.addresses.length === 0
        ? `${domain} has no A record: point it at ${publicIp} (A record, or a CNAME to the site's domain)`
        : `${domain} points at ${answers.addresses.join(", ")}, not at the platform's ${publicIp}`,
    );
  return missing.length === 0 ? { ok: true } : { ok: false, missing };
}

// ---------------------------------------------------------------------------------------------
// Changes of a customer file's list (the `customer` CLI writes what these return)

export type DomainChange<T> =
  { ok: true; entries: CustomDomainEntry[]; value: T } | { ok: false; problems: InputProblem[] };

/**
 * Adds `domain` unproven with a new proof token; refused over the plan's quota (naming the file and
 * `customDomains`), for a domain already listed, or one another customer (or the site) uses.
 */
export function addCustomDomain(
  file: string,
  entries: readonly CustomDomainEntry[],
  domain: string,
  site: { plan: string; quota: number },
  zones: readonly string[],
  usedBy: (domain: string) => string | undefined,
  proof: string,
): DomainChange<CustomDomainEntry> {
  const d = domain.toLowerCase();
  const refuse = (field: string, message: string): DomainChange<CustomDomainEntry> => ({
    ok: false,
    problems: [{ file, field, message }],
  });
  const syntax = hostNameProblems(domain);
  if (syntax.length > 0) return refuse(customDomainField(entries.length, "domain"), syntax.join("; "));
  if (entries.some((e) => e.domain.toLowerCase() === d)) return refuse("customDomains", `${domain} is already listed`);
  const other = usedBy(d);
  if (other) return refuse(customDomainField(entries.length, "domain"), `${domain} is already used by ${other}`);
  const entry: CustomDomainEntry = { domain: d, proof };
  const next = [...entries, entry];
  const problems = customDomainProblems(next, site, zones);
  if (problems.length > 0) return { ok: false, problems: problems.map((p) => ({ file, ...p })) };
  return { ok: true, entries: next, value: entry };
}

/** Records the proof of `domain` found at `now`; refused for a domain not listed. */
export function markDomainVerified(
  file: string,
  entries: readonly CustomDomainEntry[],
  domain: string,
  now: Date,
): DomainChange<CustomDomainEntry> {
  const i = entries.findIndex((e) => e.domain.toLowerCase() === domain.toLowerCase());
  if (i < 0)
    return {
      ok: false,
      problems: [
        { file, field: "customDomains", message: `${domain} is not listed: add it first (customer add-domain)` },
      ],
    };
  const entry = { ...entries[i]!, verifiedAt: now.toISOString() };
  return { ok: true, entries: entries.map((e, k) => (k === i ? entry : e)), value: entry };
}

/** Removes `domain` (its proxy host goes with the next deployment); refused for a domain not listed. */
export function removeCustomDomain(
  file: string,
  entries: readonly CustomDomainEntry[],
  domain: string,
): DomainChange<undefined> {
  const rest = entries.filter((e) => e.domain.toLowerCase() !== domain.toLowerCase());
  if (rest.length === entries.length)
    return { ok: false, problems: [{ file, field: "customDomains", message: `${domain} is not listed` }] };
  return { ok: true, entries: rest, value: undefined };
}
