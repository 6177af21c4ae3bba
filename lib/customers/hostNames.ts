/**
 * What a customer's domain may be: a host name Cloudflare publishes as an A record and NPM can get a
 * certificate for, written the way DNS stores it (ASCII), and not a name the platform itself uses.
 * Pure; the customer file schema and the validation of all customers use these, so `customer add`,
 * the billing flow and the plan accept and refuse exactly the same names.
 */
import { domainToASCII } from "node:url";

/** DNS limits (RFC 1035 2.3.4): a label is 1-63 octets, a name at most 253 characters written out. */
const MAX_LABEL = 63;
const MAX_NAME = 253;

/**
 * Why `domain` is not a host name a site can have, one message per problem (empty when it is one).
 * An internationalized name is refused with its ASCII (punycode) form, which is what DNS, Cloudflare
 * and the certificate hold; upper case is accepted (names are compared lower-cased).
 */
export function hostNameProblems(domain: string): string[] {
  if (domain === "") return ["is empty"];
  if (domain.trim() !== domain)
    return [`"${domain}" has leading or trailing spaces: write ${JSON.stringify(domain.trim())}`];
  if (/\s/.test(domain)) return [`"${domain}" contains spaces`];
  if (domain.endsWith(".")) return [`"${domain}" ends with a dot: write ${domain.replace(/\.+$/, "")}`];
  if (domain.split(".").includes("*") || domain.includes("*"))
    return [`"${domain}" is a wildcard: a site has one host name, e.g. shop.nodepoint.eu`];
  // eslint-disable-next-line no-control-regex -- anything outside ASCII
  if (/[^\x00-\x7f]/.test(domain)) {
    const ascii = domainToASCII(domain);
    return [
      ascii && hostNameProblems(ascii).length === 0
        ? `"${domain}" is an internationalized name: write its ASCII (punycode) form ${ascii}`
        : `"${domain}" is not a valid internationalized domain name`,
    ];
  }
  const problems: string[] = [];
  const labels = domain.split(".");
  if (labels.length < 2) problems.push(`"${domain}" must be a host name inside a zone, e.g. shop.nodepoint.eu`);
  if (labels.some((l) => l === ""))
    problems.push(`"${domain}" has an empty label (two dots in a row, or a leading dot)`);
  for (const label of labels.filter((l) => l !== "")) {
    if (!/^[a-z0-9-]+$/i.test(label))
      problems.push(`label "${label}" may hold only letters, digits and hyphens (a-z, 0-9, -)`);
    else if (label.startsWith("-") || label.endsWith("-"))
      problems.push(`label "${label}" must not start or end with a hyphen`);
    else if (/^xn--/i.test(label) && domainToASCII(label) === "")
      problems.push(`label "${label}" is not valid punycode (an xn-- label must decode to a name)`);
    if (label.length > MAX_LABEL) problems.push(`label "${label}" is longer than ${MAX_LABEL} characters`);
  }
  if (domain.length > MAX_NAME) problems.push(`is longer than ${MAX_NAME} characters`);
  const top = labels[labels.length - 1] ?? "";
  if (/^\d+$/.test(top)) problems.push(`"${domain}" ends in a number: a site's host name ends in its zone`);
  return problems;
}

/**
 * Host names directly under a zone that the platform itself uses (seed: shared/seed/proxmox-cluster.md
 * and shared/seed-system/provisioning.md), each with the reason. A customer's site there would take
 * over, or be taken over by, the service: its A record would point the name at the proxy.
 */
export const RESERVED_LABELS: Readonly<Record<string, string>> = {
  ns1: "a nameserver of the zone (ISPConfig, VM 100: authoritative DNS ns1/ns2)",
  ns2: "a nameserver of the zone (ISPConfig, VM 100: authoritative DNS ns1/ns2)",
  mail: "the mail server (ISPConfig, VM 100: mail with DKIM/SPF/DMARC)",
  smtp: "mail submission of the mail server (ISPConfig, VM 100)",
  imap: "mailbox access of the mail server (ISPConfig, VM 100)",
  pop3: "mailbox access of the mail server (ISPConfig, VM 100)",
  webmail: "webmail of the mail server (ISPConfig, VM 100)",
  autoconfig: "mail client auto-configuration of the mail server (ISPConfig, VM 100)",
  autodiscover: "mail client auto-discovery of the mail server (ISPConfig, VM 100)",
  ftp: "the FTP server (ISPConfig, VM 100)",
  panel: "the web hosting control panel (ISPConfig, VM 100)",
  www: "the company's own website (CT 102, the zone apex's www)",
  billing: "the billing system and customer portal (Paymenter, VM 107)",
  portal: "the customer portal (Paymenter, VM 107)",
  api: "the provisioning backend Paymenter calls (seed-system: the backend's HTTP API)",
  proxy: "the reverse proxy's own admin interface (Nginx Proxy Manager, VM 201)",
  pve: "the Proxmox VE web interface and API of cluster0",
  proxmox: "the Proxmox VE web interface and API of cluster0",
  vpn: "the WireGuard tunnel endpoint (OpenWrt router, CT 10001)",
  router: "the router (OpenWrt, CT 10001)",
};

/**
 * Why `domain` cannot be a customer's site in `zone` (the zone it lies in), or undefined: the zone
 * apex itself, or a name the platform uses directly under it. Deeper names (`www.shop.<zone>`) are
 * the customer's own.
 */
export function reservedNameProblem(domain: string, zone: string): string | undefined {
  const d = domain.toLowerCase();
  if (d === zone) return `${domain} is the zone apex: it carries the zone's NS, MX and the company's own records`;
  const label = d.slice(0, -(zone.length + 1));
  const reason = label.includes(".") ? undefined : RESERVED_LABELS[label];
  return reason ? `${domain} is reserved: ${reason}` : undefined;
}
