/**
 * What Paymenter's extension sends (../shared/seed-system/provisioning.md, "The backend's HTTP
 * contract"), as zod schemas, and the billing events the provisioner journals and applies.
 *
 * The extension sends `service_id` as a string ("12345"); a number is accepted too. Customer files
 * keep it as a positive integer (`serviceId`).
 */
import { z } from "zod";
import { customerFileSchema } from "../customers/schema";

const serviceId = z.union([
  z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  z
    .string()
    .regex(/^\s*[1-9]\d{0,14}\s*$/, "must be a positive whole number")
    .transform((s) => Number(s.trim())),
]);

const planText = z
  .string()
  .min(1)
  .max(64)
  .transform((s) => s.trim().toLowerCase());

/** `POST /create-site` */
export const createSiteBody = z.object({
  service_id: serviceId,
  email: z.email("must be an e-mail address").max(254),
  plan: planText,
  public_ip: z.ipv4("must be an IPv4 address"),
});
/** `POST /suspend`, `/unsuspend`, `/delete-site` */
export const serviceBody = z.object({ service_id: serviceId });
/** `POST /wp/upgrade/` */
export const upgradeBody = z.object({ service_id: serviceId, plan: planText });
/** `GET /status?service_id=` */
export const statusQuery = z.object({ service_id: serviceId });

/** The events the provisioner journals, each applied as a change of customer files. */
export const billingEventSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("create-site"),
    serviceId: z.number().int().positive(),
    email: z.string(),
    plan: z.string(),
    /** The site decided when the order was acknowledged (what Paymenter was told). */
    slug: z.string(),
    file: z.string(),
    data: customerFileSchema,
  }),
  z.strictObject({ kind: z.literal("suspend"), serviceId: z.number().int().positive() }),
  z.strictObject({ kind: z.literal("unsuspend"), serviceId: z.number().int().positive() }),
  z.strictObject({ kind: z.literal("upgrade"), serviceId: z.number().int().positive(), plan: z.string() }),
  /** terminateServer, step 1: decommission. */
  z.strictObject({ kind: z.literal("delete-site"), serviceId: z.number().int().positive() }),
  /** Step 2, started by the provisioner once the decommission is deployed: the file goes. */
  z.strictObject({ kind: z.literal("remove-site"), serviceId: z.number().int().positive(), slug: z.string() }),
]);
export type BillingEvent = z.infer<typeof billingEventSchema>;
export type EventKind = BillingEvent["kind"];

/** One line of the journal. */
export const journalRecordSchema = z.discriminatedUnion("t", [
  /** An accepted event: written (and flushed to disk) before the request is answered. */
  z.strictObject({
    t: z.literal("event"),
    seq: z.number().int().nonnegative(),
    id: z.uuid(),
    at: z.string(),
    event: billingEventSchema,
  }),
  /** A create whose decided site collided with a change made meanwhile on the branch, re-planned. */
  z.strictObject({
    t: z.literal("amended"),
    id: z.uuid(),
    slug: z.string(),
    file: z.string(),
    data: customerFileSchema,
  }),
  /** Pull-request mode: these events are proposed in pull request `pr` at commit `head`. */
  z.strictObject({
    t: z.literal("proposed"),
    ids: z.array(z.uuid()),
    pr: z.number().int().positive(),
    head: z.string(),
    base: z.string(),
  }),
  /** The event is on the branch (commit), was nothing to do, could not apply, or a reviewer closed its pull request. */
  z.strictObject({
    t: z.literal("settled"),
    id: z.uuid(),
    outcome: z.enum(["applied", "noop", "refused", "rejected"]),
    commit: z.string().optional(),
    note: z.string().optional(),
    at: z.string(),
  }),
]);
export type JournalRecord = z.infer<typeof journalRecordSchema>;
export type EventRecord = Extract<JournalRecord, { t: "event" }>;
export type SettledRecord = Extract<JournalRecord, { t: "settled" }>;

/** A one-line description of an event for commit messages, pull requests and logs. */
export function describeEvent(event: BillingEvent): string {
  switch (event.kind) {
    case "create-site":
      return `create-site service ${event.serviceId}: ${event.data.domain} (${event.plan})`;
    case "upgrade":
      return `upgrade service ${event.serviceId} to ${event.plan}`;
    case "remove-site":
      return `remove-site service ${event.serviceId}: ${event.slug} (decommission deployed)`;
    default:
      return `${event.kind} service ${event.serviceId}`;
  }
}

/** The git trailer that ties a commit to the events it carries (how a restart finds them). */
export const EVENT_TRAILER = "Provisioner-Event";
