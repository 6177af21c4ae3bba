/**
 * lib/config/pveBounds.generated.json is what the program validates against; it must equal a fresh
 * derivation from the PVE API schema, and the program must read it without the schema.
 */
import fs, { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import type * as SchemaModule from "../../lib/permissions/pveApiSchema";
import * as schemaBounds from "../../lib/permissions/pveBounds";
import { PVE_BOUNDS, patternProblem, pveInt, pveString, regExpOf } from "../../lib/config/pveBounds";
import { loadPveBounds, PVE_BOUNDS_FILE } from "../../lib/config/pveBoundsFile";
import { offlinePlan, ROOT } from "../helpers/offlinePlan";

const scratch = mkdtempSync(join(tmpdir(), "pve-bounds-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the generated file", () => {
  it("holds the schema's bounds", () => {
    expect(PVE_BOUNDS.vmid).toMatchObject({ min: schemaBounds.VMID.min, max: schemaBounds.VMID.max });
    expect(PVE_BOUNDS.vmid).toMatchObject({ min: 100, max: 999_999_999 });
    expect(PVE_BOUNDS.lxc.cores).toMatchObject({ min: 1, max: 8192 });
    expect(PVE_BOUNDS.lxc.memoryMiB).toEqual({ source: "POST /nodes/{node}/lxc memory", min: 16 });
    expect(PVE_BOUNDS.lxc.hostname.maxLength).toBe(schemaBounds.LXC_HOSTNAME.maxLength);
    expect(PVE_BOUNDS.qemu.cores).toEqual({ source: "POST /nodes/{node}/qemu cores", min: 1 });
    expect(PVE_BOUNDS.qemu.memoryMiB).toMatchObject({ min: 16 });
    expect(PVE_BOUNDS.qemu.name.maxLength).toBeUndefined();
    expect(PVE_BOUNDS.ha).toEqual({
      maxRestart: { source: "POST /cluster/ha/resources max_restart", min: 0 },
      maxRelocate: { source: "POST /cluster/ha/resources max_relocate", min: 0 },
    });
    expect(regExpOf(PVE_BOUNDS.tag).source).toBe(schemaBounds.TAGS.tagPattern.source);
    expect(regExpOf(PVE_BOUNDS.tag).flags).toBe("i");
    expect(regExpOf(PVE_BOUNDS.lxc.hostname).source).toBe(schemaBounds.namedFormat("dns-name").pattern.source);
  });
});

describe("the program runs without the contracts (where the PVE API schema lives)", () => {
  const CONTRACTS = resolve(ROOT, "contracts");
  const SHARED = resolve(ROOT, "..", "shared");
  const FS_READS = [
    "readFileSync",
    "existsSync",
    "statSync",
    "lstatSync",
    "accessSync",
    "openSync",
    "readdirSync",
    "createReadStream",
    "readFile",
  ] as const;

  /**
   * Makes every way of reading a file (node:fs, as every module of the program imports it) throw for
   * a path under contracts/ (or ../shared), and records the attempts. Named imports
   * (`import { readFileSync } from "node:fs"`) see the spies through syncBuiltinESMExports.
   */
  function trapSchemaReads(): { attempts: string[]; restore: () => void } {
    const attempts: string[] = [];
    const spies = FS_READS.map((name) => {
      const real = fs[name] as (...args: unknown[]) => unknown;
      return vi.spyOn(fs, name).mockImplementation((file: unknown, ...rest: unknown[]) => {
        const target =
          typeof file === "string" || file instanceof URL || Buffer.isBuffer(file)
            ? resolve(String(file instanceof URL ? file.pathname : file))
            : "";
        if (target.startsWith(`${CONTRACTS}/`) || target.startsWith(`${SHARED}/`)) {
          attempts.push(`${name} ${target}`);
          throw new Error(`the program read ${target} (${name})`);
        }
        return real.call(fs, file, ...rest);
      });
    });
    syncBuiltinESMExports();
    return {
      attempts,
      restore: () => {
        for (const spy of spies) spy.mockRestore();
        syncBuiltinESMExports();
      },
    };
  }

  it("the trap catches the schema loader itself (so it would catch the program reading it)", async () => {
    const trap = trapSchemaReads();
    try {
      vi.resetModules();
      const { loadPveApiSchema } = (await import(
        join(ROOT, "lib", "permissions", "pveApiSchema.ts")
      )) as typeof SchemaModule;
      expect(() => loadPveApiSchema()).toThrow(/the program read .*contracts\/proxmox-ve\/api-schema\.json/);
      expect(trap.attempts.length).toBeGreaterThan(0);
    } finally {
      trap.restore();
    }
  });

  it("the offline plan of prod succeeds with every read of the contracts refused, and tries none", async () => {
    const trap = trapSchemaReads();
    try {
      const plan = await offlinePlan();
      expect(plan.resources.length).toBeGreaterThan(100);
      expect(plan.resources.some((r) => r.type === "proxmoxve:index/roleLegacy:RoleLegacy")).toBe(true);
    } finally {
      trap.restore();
    }
    expect(trap.attempts).toEqual([]);
  });
});

describe("loading", () => {
  const write = (name: string, content: unknown) => {
    const file = join(scratch, name);
    writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
    return file;
  };
  const good = JSON.parse(readFileSync(PVE_BOUNDS_FILE, "utf8")) as Record<string, any>;

  it.each([
    ["missing", join(scratch, "absent.json"), /absent\.json: cannot be read .*; regenerate it with npm run generate/],
    ["not JSON", () => write("bad.json", "{"), /cannot be read/],
    [
      "a bound missing",
      () => write("no-vmid.json", { ...good, vmid: undefined }),
      /vmid[\s\S]*regenerate it with npm run generate/,
    ],
    [
      "max below min",
      () => write("reversed.json", { ...good, vmid: { ...good["vmid"], min: 10, max: 5 } }),
      /max is below min/,
    ],
    [
      "a pattern that does not compile",
      () => write("regex.json", { ...good, tag: { ...good["tag"], pattern: "^([a-z$" } }),
      /not a valid regular expression/,
    ],
    ["an unknown key", () => write("extra.json", { ...good, colour: "blue" }), /colour/],
  ] as Array<[string, string | (() => string), RegExp]>)("refuses a file that is %s", (_t, file, expected) => {
    expect(() => loadPveBounds(typeof file === "string" ? file : file())).toThrow(expected);
  });

  it("accepts the committed file", () => {
    expect(loadPveBounds()).toEqual(PVE_BOUNDS);
  });
});

describe("checks built on the bounds", () => {
  const r = { source: "POST /x n", min: 2, max: 4 };
  it.each([
    [1, "must be at least 2: Proxmox VE refuses less (POST /x n)"],
    [2, undefined],
    [4, undefined],
    [5, "must be at most 4: Proxmox VE refuses more (POST /x n)"],
    [2.5, "expected int"],
  ])("pveInt: %s", (value, expected) => {
    const p = pveInt(r).safeParse(value);
    if (expected === undefined) expect(p.success).toBe(true);
    else expect(p.error?.issues.map((i) => i.message).join("; ")).toContain(expected);
  });

  it("pveInt without a maximum accepts any larger value", () => {
    expect(pveInt({ source: "s", min: 16 }, " MiB").safeParse(10 ** 9).success).toBe(true);
    expect(pveInt({ source: "s", min: 16 }, " MiB").safeParse(8).error?.issues[0]?.message).toBe(
      "must be at least 16 MiB: Proxmox VE refuses less (s)",
    );
  });

  it.each([
    ["web", true],
    ["Web-01", true],
    ["ns1.nodepoint.eu", true],
    ["a", true],
    ["-web", false],
    ["web-", false],
    ["web_site", false],
    ["web..site", false],
    [".web", false],
    ["web.", false],
    ["", false],
    ["x".repeat(255), true],
    ["x".repeat(256), false],
  ])("container host name %j accepted: %s", (name, ok) => {
    expect(pveString(PVE_BOUNDS.lxc.hostname, "host name").safeParse(name).success).toBe(ok);
    expect(patternProblem(PVE_BOUNDS.lxc.hostname, "host name", name) === undefined).toBe(ok);
  });

  it.each([
    ["customer-acme", true],
    ["premium", true],
    ["Router", true],
    ["_x", true],
    ["v1.2+b", true],
    ["-lead", false],
    ["a b", false],
    ["a;b", false],
    ["ümlaut", false],
  ])("tag %j accepted: %s", (tag, ok) => {
    expect(pveString(PVE_BOUNDS.tag, "tag").safeParse(tag).success).toBe(ok);
  });
});
