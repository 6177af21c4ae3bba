/**
 * What a run against a real cluster (`pulumi preview`, `pulumi up`; not the offline plan) refuses
 * before anything is declared: a stack that describes no real cluster, and the stand-in values a
 * stack file ships with until someone sets the real ones (README, "Values to confirm"). Published,
 * they would point every customer's DNS record at a documentation address, or at no zone at all.
 */
import ipaddr from "ipaddr.js";
import type { InputProblem } from "../errors";
import type { StackConfig } from "./schema";

/**
 * A Cloudflare zone ID written by hand as a stand-in: its hex digits count up (`0123456789abcdef...`)
 * or repeat a few (`1111...`). A real one is random: fewer than 8 distinct digits in 32 has a chance
 * below 1 in 10 million.
 */
export function isStandInId(id: string): boolean {
  const digits = id.toLowerCase().split("");
  const counting = digits.every((d, i) => i === 0 || parseInt(d, 16) === (parseInt(digits[i - 1]!, 16) + 1) % 16);
  return counting || new Set(digits).size < 8;
}

/** Problems that stop a real run, each naming the key to set and how. */
export function realRunProblems(config: StackConfig, file: string): InputProblem[] {
  const problems: InputProblem[] = [];
  const add = (field: string, message: string) => problems.push({ file, field, message });
  if (!config.deploy)
    add(
      "nodepoint:deploy",
      "is false: this stack describes no real cluster; plan it offline (npm run plan -- --stack <name>), never preview or deploy it",
    );
  const ip = config.ingress.publicIp;
  const range = ipaddr.parse(ip).range();
  if (range !== "unicast")
    add(
      "nodepoint:ingress.publicIp",
      `${ip} is not a public address (${range === "reserved" ? "a documentation or reserved range" : range}), a stand-in; customer DNS records would point there. Set the router's public WAN address: pulumi config set --path 'nodepoint:ingress.publicIp' <address>`,
    );
  for (const [zone, id] of Object.entries(config.cloudflare.zones))
    if (isStandInId(id))
      add(
        `nodepoint:cloudflare.zones.${zone}`,
        `${id} is a stand-in, not the zone's ID. Set the ID from the Cloudflare dashboard (zone ${zone}, Overview, API): pulumi config set --path 'nodepoint:cloudflare.zones["${zone}"]' <zone-id>`,
      );
  return problems;
}
