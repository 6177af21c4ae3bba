import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { isAlias, isNode, LineCounter, parseDocument, visit } from "yaml";
import type { InputProblem } from "../errors";
import { zodProblems } from "../config/zodProblems";
import { customerFileSchema, SLUG_PATTERN, type CustomerFile } from "./schema";
import { containerNameProblems } from "./validateCustomers";

/** One customer file, parsed against the schema (cross-file rules come later). */
export interface ParsedCustomerFile {
  slug: string;
  /** Path relative to the project, as messages show it. */
  file: string;
  data: CustomerFile;
}

export interface LoadResult {
  files: ParsedCustomerFile[];
  problems: InputProblem[];
}

/**
 * Customer files are `<slug>.yaml` (or `.yml`); names ending so in any case are customer files, so
 * none is skipped silently. Anything else in the directory is ignored (README, subdirectories of
 * other clusters).
 */
export const CUSTOMER_FILE = /^(.*)\.(ya?ml)$/i;

/** Why `slug` cannot name a customer: the file name rule, and what Proxmox VE accepts as host name and tag. */
export function slugProblems(slug: string): Array<{ field: string; message: string }> {
  const problems: Array<{ field: string; message: string }> = [];
  if (!SLUG_PATTERN.test(slug))
    problems.push({
      field: "(file name)",
      message: `slug "${slug}" must be 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen`,
    });
  // What Proxmox VE would refuse (the slug is the container's host name and part of its tag).
  problems.push(...containerNameProblems(slug));
  return problems;
}

/**
 * Reads every customer file of `dir`, sorted by slug so that the order files are listed in never
 * changes anything. Collects every problem instead of stopping at the first. One slug has one file
 * (`shop.yml` beside `shop.yaml`, or `Shop.yaml`, is an error), and a customer file is a regular file
 * inside `dir` (a symbolic link may point to one there, nowhere else).
 */
export function loadCustomerFiles(dir: string, projectRoot: string = process.cwd()): LoadResult {
  const problems: InputProblem[] = [];
  const files: ParsedCustomerFile[] = [];
  const shown = (path: string) => relative(projectRoot, path) || path;
  let names: string[];
  let realDir: string;
  try {
    realDir = realpathSync(dir);
    names = readdirSync(dir)
      .filter((n) => CUSTOMER_FILE.test(n))
      .sort();
  } catch {
    return { files, problems: [{ file: shown(dir), field: "(directory)", message: "cannot be read" }] };
  }
  const bySlug = new Map<string, string[]>();
  for (const name of names) {
    const slug = (CUSTOMER_FILE.exec(name)?.[1] ?? name).toLowerCase();
    bySlug.set(slug, [...(bySlug.get(slug) ?? []), name]);
  }
  for (const name of names) {
    const path = join(dir, name);
    const file = shown(path);
    const add = (field: string, message: string) => problems.push({ file, field, message });
    const [, slug = name, extension = ""] = CUSTOMER_FILE.exec(name) ?? [];
    const twins = (bySlug.get(slug.toLowerCase()) ?? []).filter((n) => n !== name);
    if (twins.length > 0) {
      add("(file name)", `one customer, one file: ${twins.join(", ")} in the same directory has the same slug`);
      continue;
    }
    if (extension !== "yaml" && extension !== "yml") {
      add("(file name)", `the extension must be lower-case .yaml (rename it to ${slug}.yaml)`);
      continue;
    }
    const notAFile = regularFileProblem(path, realDir);
    if (notAFile) {
      add("(file)", notAFile);
      continue;
    }
    const parsed = parseCustomerText(readFileSync(path, "utf8"), name, file);
    problems.push(...parsed.problems);
    if (parsed.file) files.push(parsed.file);
  }
  return { files, problems };
}

/** Why `path` is not a regular file inside `realDir` (following a symbolic link), or undefined. */
function regularFileProblem(path: string, realDir: string): string | undefined {
  const link = lstatSync(path);
  if (link.isSymbolicLink()) {
    let target: string;
    try {
      target = realpathSync(path);
    } catch {
      return `is a symbolic link to ${readlinkSync(path)}, which does not exist`;
    }
    if (!target.startsWith(realDir + sep))
      return `is a symbolic link to ${target}, outside the customer directory: a customer file must live in it`;
  }
  const stat = statSync(path);
  if (stat.isDirectory()) return "is a directory, not a customer file";
  if (!stat.isFile()) return "is not a regular file (a FIFO, socket or device)";
  return undefined;
}

const YAML_TAG_PREFIX = "tag:yaml.org,2002:";

/**
 * Parses one customer file's text. Pure (no I/O), so the table-driven tests feed it directly.
 * A customer file is one YAML mapping of plain values: several documents, anchors and aliases,
 * and explicit tags (`!!binary`, `!custom`) are refused, each with its line.
 */
export function parseCustomerText(
  text: string,
  fileName: string,
  file: string,
): { file?: ParsedCustomerFile; problems: InputProblem[] } {
  const slug = CUSTOMER_FILE.exec(fileName)?.[1] ?? fileName;
  const problems: InputProblem[] = slugProblems(slug).map((p) => ({ file, ...p }));
  const lines = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, lineCounter: lines, prettyErrors: false });
  const at = (offset: number | undefined) => (offset === undefined ? "" : ` (line ${lines.linePos(offset).line})`);
  const yamlProblem = (message: string) => problems.push({ file, field: "(yaml)", message });
  for (const e of doc.errors) {
    if (e.code === "MULTIPLE_DOCS")
      yamlProblem(`holds several YAML documents${at(e.pos[0])}: a customer file is one mapping of fields`);
    else yamlProblem(`${e.message.split("\n")[0] ?? e.message}${at(e.pos[0])}`);
  }
  if (doc.errors.length > 0) return { problems };
  const aliasLines = new Set<number>();
  visit(doc, (_key, node) => {
    if (!isNode(node)) return;
    const offset = node.range?.[0];
    if (isAlias(node) || node.anchor) {
      if (offset !== undefined) aliasLines.add(lines.linePos(offset).line);
    } else if (node.tag)
      yamlProblem(
        `the tag ${node.tag.replace(YAML_TAG_PREFIX, "!!")} is not allowed${at(offset)}: a customer file holds plain text, numbers and booleans`,
      );
  });
  if (aliasLines.size > 0)
    yamlProblem(
      `anchors (&) and aliases (*) are not allowed (line ${[...aliasLines].join(", ")}): write each value out`,
    );
  for (const w of doc.warnings)
    if (w.code !== "TAG_RESOLVE_FAILED") yamlProblem(`${w.message.split("\n")[0] ?? w.message}${at(w.pos[0])}`);
  if (problems.some((p) => p.field === "(yaml)")) return { problems };
  const value: unknown = doc.toJS() ?? {};
  if (typeof value !== "object" || Array.isArray(value)) {
    problems.push({ file, field: "(document)", message: "must be a mapping of fields (domain, vmid, ip, node, ...)" });
    return { problems };
  }
  const result = customerFileSchema.safeParse(value);
  if (!result.success) {
    problems.push(...zodProblems(file, result.error));
    return { problems };
  }
  return problems.length === 0 ? { file: { slug, file, data: result.data }, problems } : { problems };
}
