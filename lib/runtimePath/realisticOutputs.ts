/**
 * Update-mode answers with computed outputs of their real size and form, for measuring what the
 * state keeps: the offline plan's placeholders (`[computed]`, lib/plan/offlineRuntime.ts) are
 * readable but short, and a secret's stored size follows its plaintext: a bcrypt hash, a PVE token
 * secret (`user@realm!id=<uuid>`).
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { CreateRequest, ResourceHandler } from "./fakeEngine";

const PASSWORD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** The computed outputs the program reads back, real-sized, for the few types that have them. */
export function realisticComputedOutputs(req: CreateRequest): Record<string, unknown> {
  const inputs = req.inputs;
  if (req.type === "random:index/randomPassword:RandomPassword") {
    const length = typeof inputs["length"] === "number" ? inputs["length"] : 16;
    const chars = [...randomBytes(length)].map((b) => PASSWORD_ALPHABET[b % PASSWORD_ALPHABET.length]).join("");
    return { result: chars, bcryptHash: `$2a$10$${randomBytes(40).toString("base64").slice(0, 53)}` };
  }
  if (req.type.startsWith("proxmoxve:user/token:Token"))
    return { value: `${String(inputs["userId"])}!${String(inputs["tokenName"])}=${randomUUID()}` };
  return {};
}

/** Update-mode handler: ID from `import` or the name, outputs = inputs plus real-sized computed outputs. */
export const realisticCreate: ResourceHandler = async (req) => ({
  id: req.importId ?? `${req.name}-id`,
  outputs: { ...req.inputs, ...realisticComputedOutputs(req) },
});
