/**
 * The customer directory as the loader reads it: one file per slug whatever the extension or case,
 * nothing but regular files inside the directory, YAML that is one mapping of plain values. Every
 * refusal names the file.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCustomerFiles, parseCustomerText } from "../lib/customers/loadCustomers";

const work = mkdtempSync(join(tmpdir(), "customer-loader-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const file = (slug: string, vmid = 1000, ip = "192.168.1.100") =>
  `domain: ${slug}.nodepoint.eu\nvmid: ${vmid}\nip: ${ip}\nnode: node1\n`;

let n = 0;
/** A fresh customer directory (as `root/customers`) built by `make`; returns what the loader says. */
function load(make: (dir: string, root: string) => void) {
  const root = join(work, `case${n++}`);
  const dir = join(root, "customers");
  mkdirSync(dir, { recursive: true });
  make(dir, root);
  const r = loadCustomerFiles(dir, root);
  return { slugs: r.files.map((f) => f.slug), problems: r.problems.map((p) => `${p.file}: ${p.field}: ${p.message}`) };
}

describe("the customer directory", () => {
  it("reads .yaml and .yml files, ignores other files and subdirectories", () => {
    const r = load((dir) => {
      writeFileSync(join(dir, "a.yaml"), file("a"));
      writeFileSync(join(dir, "b.yml"), file("b", 1001, "192.168.1.101"));
      writeFileSync(join(dir, "README.md"), "# customers\n");
      mkdirSync(join(dir, "other-cluster"));
      writeFileSync(join(dir, "other-cluster", "c.yaml"), file("c"));
    });
    expect(r).toEqual({ slugs: ["a", "b"], problems: [] });
  });

  it.each([
    [
      "x.yml beside x.yaml",
      { "kaffeebar.yaml": file("kaffeebar"), "kaffeebar.yml": file("kaffeebar", 1001, "192.168.1.101") },
      [
        "customers/kaffeebar.yaml: (file name): one customer, one file: kaffeebar.yml in the same directory has the same slug",
        "customers/kaffeebar.yml: (file name): one customer, one file: kaffeebar.yaml in the same directory has the same slug",
      ],
    ],
    [
      "the same slug in another case",
      { "Shop.yaml": file("shop"), "shop.yaml": file("shop", 1001, "192.168.1.101") },
      [
        "customers/Shop.yaml: (file name): one customer, one file: shop.yaml in the same directory has the same slug",
        "customers/shop.yaml: (file name): one customer, one file: Shop.yaml in the same directory has the same slug",
      ],
    ],
    [
      "an upper-case extension is not skipped",
      { "upper.YAML": file("upper") },
      ["customers/upper.YAML: (file name): the extension must be lower-case .yaml (rename it to upper.yaml)"],
    ],
  ])("%s: an error naming each file", (_t, files, expected) => {
    const r = load((dir) => {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    });
    expect(r.problems).toEqual(expected);
    expect(r.slugs).toEqual([]);
  });

  it.each([
    [
      "a directory named x.yaml",
      (dir: string) => mkdirSync(join(dir, "x.yaml")),
      "customers/x.yaml: (file): is a directory, not a customer file",
    ],
    [
      "a dangling symbolic link",
      (dir: string) => symlinkSync("gone.txt", join(dir, "x.yaml")),
      "customers/x.yaml: (file): is a symbolic link to gone.txt, which does not exist",
    ],
    [
      "a symbolic link to a file outside the directory",
      (dir: string, root: string) => {
        writeFileSync(join(root, "elsewhere.yaml"), file("x"));
        symlinkSync(join(root, "elsewhere.yaml"), join(dir, "x.yaml"));
      },
      /^customers\/x\.yaml: \(file\): is a symbolic link to .*elsewhere\.yaml, outside the customer directory: a customer file must live in it$/,
    ],
    [
      "a symbolic link that climbs out with ..",
      (dir: string, root: string) => {
        writeFileSync(join(root, "secret.yaml"), file("x"));
        symlinkSync("../secret.yaml", join(dir, "x.yaml"));
      },
      /^customers\/x\.yaml: \(file\): is a symbolic link to .*secret\.yaml, outside the customer directory/,
    ],
    [
      "a FIFO (reading it would hang)",
      (dir: string) => execFileSync("mkfifo", [join(dir, "x.yaml")]),
      "customers/x.yaml: (file): is not a regular file (a FIFO, socket or device)",
    ],
  ] as Array<[string, (dir: string, root: string) => void, string | RegExp]>)(
    "%s is refused, naming it",
    (_t, make, expected) => {
      const r = load(make);
      expect(r.slugs).toEqual([]);
      expect(r.problems).toHaveLength(1);
      if (typeof expected === "string") expect(r.problems[0]).toBe(expected);
      else expect(r.problems[0]).toMatch(expected);
    },
  );

  it("a symbolic link to a regular file inside the directory is read", () => {
    const r = load((dir) => {
      mkdirSync(join(dir, "archive"));
      writeFileSync(join(dir, "archive", "real.txt"), file("x"));
      symlinkSync("archive/real.txt", join(dir, "x.yaml"));
    });
    expect(r).toEqual({ slugs: ["x"], problems: [] });
  });

  it("an unreadable directory is one problem naming it", () => {
    const r = loadCustomerFiles(join(work, "does-not-exist"), work);
    expect(r.problems.map((p) => `${p.file}: ${p.field}: ${p.message}`)).toEqual([
      "does-not-exist: (directory): cannot be read",
    ]);
  });
});

describe("YAML a customer file may not use", () => {
  const body = "vmid: 1000\nip: 192.168.1.100\nnode: node1\n";
  it.each([
    [
      "several documents",
      `domain: a.nodepoint.eu\n${body}---\ndomain: b.nodepoint.eu\n`,
      "customers/x.yaml: (yaml): holds several YAML documents (line 5): a customer file is one mapping of fields",
    ],
    [
      "an alias",
      `domain: &d a.nodepoint.eu\n${body}email: *d\n`,
      "customers/x.yaml: (yaml): anchors (&) and aliases (*) are not allowed (line 1, 5): write each value out",
    ],
    [
      "nested aliases (an alias bomb)",
      `${body}a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n`,
      "customers/x.yaml: (yaml): anchors (&) and aliases (*) are not allowed (line 4, 5, 6, 7): write each value out",
    ],
    [
      "a !!binary value",
      `domain: !!binary aGVsbG8=\n${body}`,
      "customers/x.yaml: (yaml): the tag !!binary is not allowed (line 1): a customer file holds plain text, numbers and booleans",
    ],
    [
      "a custom tag",
      `domain: !shop a.nodepoint.eu\n${body}`,
      "customers/x.yaml: (yaml): the tag !shop is not allowed (line 1): a customer file holds plain text, numbers and booleans",
    ],
    ["a syntax error", "domain: [unclosed\n", /^customers\/x\.yaml: \(yaml\): .* \(line \d+\)$/],
  ] as Array<[string, string, string | RegExp]>)(
    "%s: refused with the file and line, no exception",
    (_t, text, expected) => {
      const r = parseCustomerText(text, "x.yaml", "customers/x.yaml");
      expect(r.file).toBeUndefined();
      const lines = r.problems.map((p) => `${p.file}: ${p.field}: ${p.message}`);
      if (typeof expected === "string") expect(lines).toContain(expected);
      else
        expect(
          lines.some((l) => expected.test(l)),
          lines.join("\n"),
        ).toBe(true);
    },
  );

  it("the loader reports them per file and keeps reading the others", () => {
    const r = load((dir) => {
      writeFileSync(join(dir, "bomb.yaml"), `a: &a [x, x]\nb: [*a, *a]\n`);
      writeFileSync(join(dir, "good.yaml"), file("good", 1001, "192.168.1.101"));
    });
    expect(r.slugs).toEqual(["good"]);
    expect(r.problems).toEqual([
      "customers/bomb.yaml: (yaml): anchors (&) and aliases (*) are not allowed (line 1, 2): write each value out",
    ]);
  });
});
