/**
 * A run under the Pulumi engine (`pulumi preview`/`up`) refuses what must never reach the real
 * cluster: the stack file's stand-in public IP and zone ID, and a stack that is no real cluster.
 * The offline plan keeps planning with them.
 */
import { describe, expect, it } from "vitest";
import { stackConfigOf } from "../lib/config/stacks";
import { isStandInId, realRunProblems } from "../lib/config/realRun";
import { runStack } from "../lib/runtimePath/languageHost";
import { FIXTURE_CUSTOMERS, REAL_RUN_VALUES, ROOT } from "./helpers/offlinePlan";

const prod = stackConfigOf("prod", ROOT);
const lines = (config: typeof prod, file = "Pulumi.prod.yaml") =>
  realRunProblems(config, file).map((p) => `${p.file}: ${p.field}: ${p.message}`);

describe("stand-in values", () => {
  it("prod as committed: the documentation IP and the made-up zone ID are refused, each naming its key and how to set it", () => {
    expect(lines(prod)).toEqual([
      "Pulumi.prod.yaml: nodepoint:ingress.publicIp: 203.0.113.10 is not a public address (a documentation or reserved range), a stand-in; customer DNS records would point there. Set the router's public WAN address: pulumi config set --path 'nodepoint:ingress.publicIp' <address>",
      `Pulumi.prod.yaml: nodepoint:cloudflare.zones.nodepoint.eu: 0123456789abcdef0123456789abcdef is a stand-in, not the zone's ID. Set the ID from the Cloudflare dashboard (zone nodepoint.eu, Overview, API): pulumi config set --path 'nodepoint:cloudflare.zones["nodepoint.eu"]' <zone-id>`,
    ]);
  });

  it("real values pass", () => {
    expect(lines({ ...prod, ...REAL_RUN_VALUES })).toEqual([]);
  });

  it.each([
    ["10.0.0.5", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "carrierGradeNat"],
    ["127.0.0.1", "loopback"],
    ["198.51.100.7", "a documentation or reserved range"],
    ["192.0.2.1", "a documentation or reserved range"],
  ])("public IP %s is refused (%s)", (ip, range) => {
    expect(lines({ ...prod, ingress: { publicIp: ip } })[0]).toContain(`${ip} is not a public address (${range})`);
  });

  it.each([
    ["00000000000000000000000000000000", true],
    ["11111111111111111111111111111111", true],
    ["0123456789abcdef0123456789abcdef", true],
    ["fedcba9876543210fedcba9876543210".split("").reverse().join(""), true],
    ["abababababababababababababababab", true],
    ["5f2c8e1a9b7d4c3e6a0f1b2d8c9e7a4b", false],
    ["023e105f4ecef8ad9ca31a8372d0c353", false], // Cloudflare's documentation example
  ])("zone ID %s is a stand-in: %s", (id, standIn) => {
    expect(isStandInId(id)).toBe(standIn);
  });

  it("a stack that is no real cluster (the bench stack) is refused whatever its values", () => {
    const bench = stackConfigOf("bench", ROOT);
    expect(bench.deploy).toBe(false);
    expect(prod.deploy).toBe(true);
    expect(lines({ ...bench, ...REAL_RUN_VALUES }, "Pulumi.bench.yaml")).toEqual([
      "Pulumi.bench.yaml: nodepoint:deploy: is false: this stack describes no real cluster; plan it offline (npm run plan -- --stack <name>), never preview or deploy it",
    ]);
  });
});

describe("under the engine", () => {
  it("pulumi preview of prod with the committed stand-ins stops before declaring anything, naming both keys", async () => {
    const run = await runStack({
      root: ROOT,
      stack: "prod",
      dryRun: true,
      configOverrides: { "nodepoint:customersDir": FIXTURE_CUSTOMERS },
    });
    expect(run.exitCode).toBe(32);
    const message = run.engine.logs
      .filter((l) => l.severity === "error")
      .map((l) => l.message)
      .join("\n");
    expect(message).toContain("Pulumi.prod.yaml: nodepoint:ingress.publicIp: 203.0.113.10 is not a public address");
    expect(message).toContain(
      "Pulumi.prod.yaml: nodepoint:cloudflare.zones.nodepoint.eu: 0123456789abcdef0123456789abcdef is a stand-in",
    );
    expect(run.engine.resources.map((r) => r.type)).toEqual(["pulumi:pulumi:Stack"]);
  }, 0);
});
