/** `npm run bench` as a user runs it: help, usage errors, progress on stderr while it works. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SITE_INPUT_BUDGET } from "../lib/bench/stateCost";
import { ROOT } from "./helpers/offlinePlan";

const bench = (...args: string[]) => {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/bench.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe("npm run bench", () => {
  it.each([["--help"], ["-h"]])("%s prints the usage, exit 0, no stack trace and no benchmark", (flag) => {
    const r = bench(flag);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: npm run bench /);
    expect(r.err).toBe("");
  });

  it.each([
    [["--sizes", "100,lots"], "--sizes takes positive integers separated by commas (not: lots)"],
    [["--sizes", "0"], "--sizes takes positive integers separated by commas (not: 0)"],
    [["--frobnicate"], "Unknown option '--frobnicate'"],
    [["100"], "unexpected argument 100"],
  ])("usage error %j: exit 2 with the usage, no stack trace", (args, message) => {
    const r = bench(...args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`bench: ${message}`);
    expect(r.err).toContain("usage: npm run bench");
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("reports progress on stderr for each step, the table on stdout: offline, cmd/run, baseline, targeted set", () => {
    const r = bench("--sizes", "2,5");
    expect(r.code, r.err).toBe(0);
    const steps = r.err.trim().split("\n");
    const step = (n: number, i: number) => [
      `bench [t] N=${n} (${i}/2): generating ${n} customers`,
      `bench [t] N=${n} (${i}/2): offline plan (stack bench, fresh process)`,
      `bench [t] N=${n} (${i}/2): offline X; the program through cmd/run`,
      `bench [t] N=${n} (${i}/2): cmd/run Y; running the SDK baseline`,
      `bench [t] N=${n} (${i}/2): baseline Y; the SDK floor in-process and through cmd/run`,
      `bench [t] N=${n} (${i}/2): SDK floor Z; the targeted set of a one-customer change`,
      `bench [t] N=${n} (${i}/2): T resources targeted; done`,
    ];
    expect(
      steps.map((l) =>
        l
          .replace(/\[\d+\.\d s\]/, "[t]")
          .replace(/\d+ ms, \d+ resources/, "X")
          .replace(/\d+ ms and \d+ ms;/, "Z;")
          .replace(/\d+ ms;/, "Y;")
          .replace(/: \d+ resources targeted/, ": T resources targeted"),
      ),
    ).toEqual(["bench [t] N=10: the targeted set of a one-customer change", ...step(2, 1), ...step(5, 2)]);
    const lines = r.out.trim().split("\n");
    expect(lines[0]).toMatch(/^\s*sites\s+resources\s+offline ms\s+cmd\/run ms\s+baseline ms/);
    expect(lines).toHaveLength(6); // header, rule, two rows, blank, the targeted sets
    const targeted =
      /targeted set of a one-customer change: 2 sites: (\d+), 5 sites: (\d+), 10 sites: (\d+) resources/.exec(r.out);
    expect(targeted, r.out).not.toBeNull();
    expect(new Set(targeted!.slice(1)).size).toBe(1); // the same size whatever the number of sites
    // Headers are separated by two spaces or more, cells hold no space.
    const headers = lines[0]!.trim().split(/\s{2,}/);
    const cell = (line: string, header: string) => {
      expect(headers).toContain(header);
      return Number(line.trim().split(/\s+/)[headers.indexOf(header)]);
    };
    // Bytes stored per site, measured on the cmd/run path: a number of the right order.
    const two = lines[2]!;
    expect(cell(two, "stored B/site max")).toBeGreaterThan(1000);
    // The fifth site is premium (HA: its rule names the bench stack's 20 nodes), the largest a site
    // stores: within the budget.
    const five = lines[3]!;
    expect(cell(five, "sites")).toBe(5);
    expect(cell(five, "stored B/site max")).toBeGreaterThan(cell(two, "stored B/site max"));
    expect(cell(five, "stored B/site max")).toBeLessThanOrEqual(SITE_INPUT_BUDGET);
    // The SDK's floor ran both ways and its ratio is theirs (from whole milliseconds: within 5%).
    for (const line of [two, five]) {
      const ratio = cell(line, "floor cmd/run ms") / cell(line, "floor offline ms");
      expect(Math.abs(cell(line, "floor ratio") / ratio - 1)).toBeLessThan(0.05);
    }
  });
});
