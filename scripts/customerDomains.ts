/**
 * `npm run customer -- add-domain|verify-domain|remove-domain|domains <slug> [<domain>]`: a customer's
 * own domains (lib/customers/customDomains.ts). `add-domain` lists the domain with a new proof token
 * (within the plan's quota) and prints the DNS records the customer publishes; `verify-domain` looks
 * them up and, when they prove the domain, records `verifiedAt`, after which the plan serves the
 * domain through the site's proxy (a proxy host with its own certificate). Each writes at most that
 * one customer file, keeping its comments.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { stackConfigOf } from "../lib/config/stacks";
import { editCustomerText } from "../lib/customers/customerChanges";
import { customerDomainsOfAllStacks } from "../lib/customers/crossStack";
import {
  addCustomDomain,
  judgeDomainProof,
  markDomainVerified,
  newDomainProof,
  proofRecord,
  removeCustomDomain,
  type CustomDomainEntry,
} from "../lib/customers/customDomains";
import { lookUpDomainProof } from "../lib/customers/domainProofDns";
import { loadCustomerFiles } from "../lib/customers/loadCustomers";
import { formatProblems } from "../lib/errors";
import { EXIT, parseCommandLine, UsageError } from "./cli";

export const DOMAIN_COMMANDS = ["add-domain", "verify-domain", "remove-domain", "domains"] as const;
export type DomainCommand = (typeof DOMAIN_COMMANDS)[number];

export const DOMAIN_USAGE = `  npm run customer -- add-domain|verify-domain|remove-domain <slug> <domain> [--stack NAME] [--customers DIR]
  npm run customer -- domains <slug>
    a customer's own domains: add-domain lists it (within the plan's customDomains quota) and prints the
    DNS records to publish; verify-domain checks them (--dns-server IP[:PORT], default: the system's
    resolver) and records the proof; only then does the plan give the domain a proxy host`;

export function isDomainCommand(command: string | undefined): command is DomainCommand {
  return (DOMAIN_COMMANDS as readonly string[]).includes(command ?? "");
}

/** Runs one custom-domain command; returns the exit code. */
export async function runDomainCommand(
  args: string[],
  root: string = process.cwd(),
  now: () => Date = () => new Date(),
): Promise<number> {
  const { values, positionals } = parseCommandLine(
    {
      allowPositionals: true,
      options: {
        stack: { type: "string", default: "prod" },
        customers: { type: "string" },
        "dns-server": { type: "string", multiple: true },
      },
    },
    args,
  );
  const [command, slug, domain, ...extra] = positionals;
  if (!isDomainCommand(command)) throw new UsageError(`unknown command "${command}"`);
  if (!slug) throw new UsageError(`${command} needs the customer's slug`);
  if (command !== "domains" && !domain) throw new UsageError(`${command} needs the domain`);
  if ((command === "domains" && domain) || extra.length > 0)
    throw new UsageError(`unexpected argument ${[...(command === "domains" ? [domain] : []), ...extra].join(" ")}`);
  if (values["dns-server"] && command !== "verify-domain") throw new UsageError("--dns-server goes with verify-domain");

  const config = stackConfigOf(values.stack, root);
  const dir = resolve(root, values.customers ?? config.customersDir);
  const loaded = loadCustomerFiles(dir, root);
  const file = relative(root, join(dir, `${slug}.yaml`));
  const customer = loaded.files.find((f) => f.slug === slug);
  if (!customer) {
    console.error(`${file}: (file name): no customer "${slug}"; nothing written`);
    return EXIT.failed;
  }
  if (loaded.problems.length > 0) {
    console.error(`customer files have problems; fix them first, nothing written:\n${formatProblems(loaded.problems)}`);
    return EXIT.failed;
  }
  const entries: CustomDomainEntry[] = customer.data.customDomains ?? [];
  const planName = customer.data.plan ?? config.defaultPlan;
  const quota = config.plans[planName]?.customDomains ?? 0;
  const publicIp = config.ingress.publicIp;
  const write = (next: CustomDomainEntry[]) => {
    const { customDomains: _old, ...rest } = customer.data;
    const path = resolve(root, customer.file);
    writeFileSync(
      path,
      editCustomerText(readFileSync(path, "utf8"), next.length > 0 ? { ...rest, customDomains: next } : rest),
    );
  };
  const refused = (problems: Parameters<typeof formatProblems>[0]) => {
    console.error(`${formatProblems(problems)}\nnothing written`);
    return EXIT.failed;
  };
  const instructions = (e: CustomDomainEntry) => {
    const txt = proofRecord(e.domain, e.proof);
    return [
      `  ${txt.name}. TXT "${txt.value}"   (proves the domain is the customer's)`,
      `  ${e.domain}. A ${publicIp}   (or a CNAME to ${customer.data.domain}: the certificate needs it)`,
    ].join("\n");
  };

  if (command === "domains") {
    console.log(`${customer.file}: ${entries.length} of ${quota} custom domains (${planName} plan)`);
    for (const e of entries)
      console.log(
        `  ${e.domain.padEnd(40)} ${e.verifiedAt ? `proven ${e.verifiedAt}, served` : "not proven: not served"}`,
      );
    return EXIT.ok;
  }

  if (command === "add-domain") {
    const owners = customerDomainsOfAllStacks(root);
    const usedBy = (d: string) =>
      owners
        .get(d)
        ?.filter((o) => resolve(root, o.file) !== resolve(root, customer.file))
        .map((o) => `${o.file} (stack ${o.stack})`)
        .join(", ") || loaded.files.find((f) => f.slug !== slug && f.data.domain.toLowerCase() === d)?.file;
    const change = addCustomDomain(
      customer.file,
      entries,
      domain!,
      { plan: planName, quota },
      Object.keys(config.cloudflare.zones),
      usedBy,
      newDomainProof(),
    );
    if (!change.ok) return refused(change.problems);
    write(change.entries);
    console.log(
      `wrote ${customer.file}: ${change.value.domain} added, not served until proven. The customer publishes (their DNS):\n${instructions(change.value)}\nthen: npm run customer -- verify-domain ${slug} ${change.value.domain}`,
    );
    return EXIT.ok;
  }

  if (command === "remove-domain") {
    const change = removeCustomDomain(customer.file, entries, domain!);
    if (!change.ok) return refused(change.problems);
    write(change.entries);
    console.log(
      `wrote ${customer.file}: ${domain!.toLowerCase()} removed (its proxy host goes with the next deployment)`,
    );
    return EXIT.ok;
  }

  // verify-domain
  const entry = entries.find((e) => e.domain.toLowerCase() === domain!.toLowerCase());
  if (!entry)
    return refused([
      {
        file: customer.file,
        field: "customDomains",
        message: `${domain} is not listed: add it first (customer add-domain)`,
      },
    ]);
  const answers = await lookUpDomainProof(entry.domain, { servers: values["dns-server"] ?? [] });
  const verdict = judgeDomainProof(entry.domain, entry.proof, answers, publicIp);
  if (!verdict.ok) {
    console.error(
      `${customer.file}: customDomains: ${entry.domain} is not proven:\n${verdict.missing.map((m) => `  - ${m}`).join("\n")}\nnothing written; the records to publish:\n${instructions(entry)}`,
    );
    return EXIT.failed;
  }
  const change = markDomainVerified(customer.file, entries, entry.domain, now());
  if (!change.ok) return refused(change.problems);
  write(change.entries);
  console.log(
    `wrote ${customer.file}: ${entry.domain} proven (verifiedAt ${change.value.verifiedAt}); the next deployment gives it a proxy host with its own certificate`,
  );
  return EXIT.ok;
}
