/**
 * The baseline customer validation compares with: the committed desired state
 * (`desired-state/<stack>.json`, the plan JSON of the last merge, which CI deploys), read back as
 * what each customer's site is declared with there. Pure: the caller reads the file.
 *
 * Fails closed: a file that is not a plan document is an error naming the file, never "no
 * baseline" (which would let any replacing change pass unconfirmed).
 */
import { z } from "zod";
import { COMPONENT_TYPES } from "../componentTypes";
import type { InputProblem } from "../errors";
import { zodProblems } from "../config/zodProblems";
import { CUSTOMER_FIELD_INPUTS, CUSTOMER_REPLACING_FIELDS, inputAt, pathMatches, TYPES } from "../providerFacts";
import type { ReplacingField } from "./schema";

/** The values of the fields whose change replaces a container. */
export type Placement = Record<ReplacingField, string | number>;

const SITE_TYPE = COMPONENT_TYPES.wordPressSite;

/** One customer's site as the committed desired state declares it. */
export interface DeployedSite {
  slug: string;
  /** VMID, node, root disk storage and size of its container. */
  placement: Placement;
  /** Its LAN address. */
  ip?: string;
  /** Pulumi's `protect` on the container. */
  protect: boolean;
  /**
   * Fields the container was prepared to be replaced for (a merged `confirmReplace`): its
   * `replaceOnChanges` holds their inputs, and its protection is lifted.
   */
  prepared: ReplacingField[];
  /** Whether the site had an HA resource. */
  ha: boolean;
}

/** The committed desired state, as customer validation reads it. */
export interface Baseline {
  /** The file it was read from, relative to the project (for messages). */
  file: string;
  /** Customers by slug. */
  sites: Map<string, DeployedSite>;
}

/** What a plan document must look like for the guard to trust it (`npm run plan -- --json` writes it). */
const planDocumentSchema = z.looseObject({
  stack: z.string().min(1),
  resources: z.array(
    z.looseObject({
      urn: z.string().min(1),
      type: z.string().min(1),
      name: z.string().min(1),
      parent: z.string(),
      inputs: z.record(z.string(), z.unknown()),
      options: z.looseObject({
        protect: z.boolean(),
        replaceOnChanges: z.array(z.string()).optional(),
      }),
    }),
  ),
});

type PlannedResource = z.infer<typeof planDocumentSchema>["resources"][number];

/**
 * Parses a plan document's text (a desired state, as `npm run plan -- --json` writes it), or returns
 * the problems that make it unusable (not JSON, not a plan document), each naming `file`.
 */
export function parsePlanDocument(
  text: string,
  file: string,
): { doc?: z.infer<typeof planDocumentSchema>; problems: InputProblem[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return {
      problems: [
        {
          file,
          field: "(json)",
          message: `is not valid JSON (${(err as Error).message}): a desired state is written by npm run plan -- --json, never by hand`,
        },
      ],
    };
  }
  const parsed = planDocumentSchema.safeParse(json);
  if (!parsed.success)
    return {
      problems: zodProblems(file, parsed.error).map((p) => ({
        ...p,
        message: `${p.message} (not a plan document as npm run plan -- --json writes it)`,
      })),
    };
  return { doc: parsed.data, problems: [] };
}

/**
 * Reads a desired-state document's text. Returns the baseline, or the problems that make it
 * unusable (not JSON, not a plan document), each naming `file`.
 */
export function baselineOf(text: string, file: string): { baseline?: Baseline; problems: InputProblem[] } {
  const parsed = parsePlanDocument(text, file);
  if (!parsed.doc) return { problems: parsed.problems };
  const resources = parsed.doc.resources;
  const sites = new Map<string, DeployedSite>();
  for (const r of resources) {
    const slug = siteSlugOf(r);
    if (slug === undefined || r.type !== TYPES.container) continue;
    const placement = {} as Placement;
    for (const field of CUSTOMER_REPLACING_FIELDS) {
      const value = inputAt(r.inputs, CUSTOMER_FIELD_INPUTS[field]);
      if (typeof value === "number" || (typeof value === "string" && value !== "")) placement[field] = value;
    }
    const replaceOnChanges = r.options.replaceOnChanges ?? [];
    sites.set(slug, {
      slug,
      placement,
      ...ipOf(r.inputs),
      protect: r.options.protect,
      prepared: CUSTOMER_REPLACING_FIELDS.filter((f) =>
        replaceOnChanges.some((p) => pathMatches(CUSTOMER_FIELD_INPUTS[f], p)),
      ),
      ha: resources.some((h) => h.type === TYPES.haResource && siteSlugOf(h) === slug),
    });
  }
  return { baseline: { file, sites }, problems: [] };
}

/** The slug of the WordPressSite a resource belongs to (its direct parent), if any. */
function siteSlugOf(r: PlannedResource): string | undefined {
  if (!r.parent.includes(`::${SITE_TYPE}::`)) return undefined;
  return r.parent.slice(r.parent.lastIndexOf("::") + 2);
}

/** The container's static address (`initialization.ipConfigs[0].ipv4.address`, `a.b.c.d/nn`). */
function ipOf(inputs: Record<string, unknown>): { ip?: string } {
  const configs = inputAt(inputs, "initialization.ipConfigs");
  const first = Array.isArray(configs) ? (configs[0] as unknown) : undefined;
  const address = inputAt(first, "ipv4.address");
  return typeof address === "string" && address.includes("/") ? { ip: address.split("/")[0]! } : {};
}
