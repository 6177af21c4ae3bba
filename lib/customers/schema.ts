/**
 * The schema of one customer file, `customers/<slug>.yaml`. The slug is the file name and the
 * customer's stable identity: resource names and the container's host name derive from it.
 */
import { z } from "zod";
import { PVE_BOUNDS, pveInt } from "../config/pveBounds";
import { planName } from "../config/schema";
import { CUSTOMER_REPLACING_FIELDS } from "../providerFacts";
import { customDomainSchema, type CustomDomain } from "./customDomains";
import { hostNameProblems } from "./hostNames";

export const SLUG_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Fields whose change makes the provider replace the container (destroying the site's data): lib/providerFacts.ts. */
export const REPLACING_FIELDS = CUSTOMER_REPLACING_FIELDS;
export type ReplacingField = (typeof REPLACING_FIELDS)[number];

export const customerStates = ["active", "suspended", "decommissioned"] as const;

export const customerFileSchema = z.strictObject({
  /** The site's host name; must lie inside one of the stack's Cloudflare zones. */
  domain: z
    .string()
    .superRefine((domain, ctx) => {
      for (const message of hostNameProblems(domain)) ctx.addIssue({ code: "custom", message });
    })
    .meta({
      description: "The site's host name (ASCII; punycode for an internationalized name), e.g. shop.nodepoint.eu",
    }),
  /** One of the stack's plans (`nodepoint:plans`); omitted: the stack's `nodepoint:defaultPlan`. */
  plan: planName.optional(),
  /** Container VMID: written once when the customer is added, never recomputed. Inside PVE's VMID range (and the stack's customer range). */
  vmid: pveInt(PVE_BOUNDS.vmid),
  /** LAN address: written once when the customer is added, never recomputed. */
  ip: z.ipv4(),
  /** Node the container lives on (one with the DRBD pool): written once. */
  node: z.string().min(1),
  /** High availability; defaults to the plan's setting (premium: on). */
  ha: z.boolean().optional(),
  /** Overrides of the plan's size, within the stack's bounds and what PVE accepts for a container. */
  cores: pveInt(PVE_BOUNDS.lxc.cores).optional(),
  memoryMiB: pveInt(PVE_BOUNDS.lxc.memoryMiB, " MiB").optional(),
  diskGiB: z.number().int().positive().optional(),
  /** Root disk storage override (defaults to the stack's customer storage). */
  storage: z.string().min(1).optional(),
  /** `active` (default), `suspended` (stopped, DNS kept) or `decommissioned` (stopped, unprotected, DNS removed). */
  state: z.enum(customerStates).default("active"),
  /** Paymenter's service id, when the site was ordered there: the key of every billing event. */
  serviceId: z.number().int().positive().optional(),
  /** The customer's contact e-mail (from the order). */
  email: z.email().optional(),
  /**
   * The customer's own domains, within the plan's `customDomains` quota; each served by the site's
   * proxy once its ownership is proven (lib/customers/customDomains.ts; `customer add-domain`,
   * `customer verify-domain`). Their DNS stays the customer's.
   */
  customDomains: z.array(customDomainSchema).optional(),
  /**
   * Fields this change deliberately alters although that replaces the container (data loss): the
   * merge that adds it prepares the replacement, the next one (removing it) runs it
   * (lib/customers/replacement.ts). Refused when there is nothing to confirm.
   */
  confirmReplace: z.array(z.enum(REPLACING_FIELDS)).optional(),
});

export type CustomerFile = z.infer<typeof customerFileSchema>;

export type CustomerState = (typeof customerStates)[number];

/** A customer after validation, with every default resolved. */
export interface Customer {
  slug: string;
  /** The file it came from, relative to the project, for messages. */
  file: string;
  domain: string;
  plan: string;
  /** What the plan allows: backups kept and custom domains. */
  quotas: { backups: number; customDomains: number };
  /** Paymenter's service id and the customer's e-mail, when ordered there. */
  serviceId?: number;
  email?: string;
  vmid: number;
  ip: string;
  node: string;
  ha: boolean;
  cores: number;
  memoryMiB: number;
  diskGiB: number;
  storage: string;
  state: CustomerState;
  /** The customer's own domains; the verified ones are served (lib/customers/customDomains.ts). */
  customDomains: CustomDomain[];
  /** The Cloudflare zone the domain lies in, and its ID. */
  zone: string;
  zoneId: string;
}
