/** `npm run bench` as a user runs it: help, usage errors, progress on stderr while it works. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
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

  it("reports progress on stderr for each step, the table on stdout", () => {
    const r = bench("--sizes", "2,3");
    expect(r.code, r.err).toBe(0);
    const steps = r.err.trim().split("\n");
    expect(
      steps.map((l) =>
        l
          .replace(/\[\d+\.\d s\]/, "[t]")
          .replace(/\d+ ms, \d+ resources/, "X")
          .replace(/\d+ ms;/, "Y;"),
      ),
    ).toEqual([
      "bench [t] N=2 (1/2): generating 2 customers",
      "bench [t] N=2 (1/2): planning the program (stack bench, fresh process)",
      "bench [t] N=2 (1/2): program X; running the SDK baseline",
      "bench [t] N=2 (1/2): baseline Y; done",
      "bench [t] N=3 (2/2): generating 3 customers",
      "bench [t] N=3 (2/2): planning the program (stack bench, fresh process)",
      "bench [t] N=3 (2/2): program X; running the SDK baseline",
      "bench [t] N=3 (2/2): baseline Y; done",
    ]);
    expect(r.out).toMatch(/^\s*sites\s+resources\s+plan ms/);
    expect(r.out.trim().split("\n")).toHaveLength(4);
  });
});
