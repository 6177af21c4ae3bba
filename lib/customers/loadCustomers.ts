import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseDocument } from "yaml";
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

/** Customer files are `<slug>.yaml`; anything else in the directory is ignored (README, schema). */
export const CUSTOMER_FILE = /^(.*)\.ya?ml$/;

/**
 * Reads every customer file of `dir`, sorted by slug so that the order files are listed in never
 * changes anything. Collects every problem instead of stopping at the first.
 */
export function loadCustomerFiles(dir: string, projectRoot: string = process.cwd()): LoadResult {
  const problems: InputProblem[] = [];
  const files: ParsedCustomerFile[] = [];
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => CUSTOMER_FILE.test(n))
      .sort();
  } catch {
    return {
      files,
      problems: [{ file: relative(projectRoot, dir) || dir, field: "(directory)", message: "cannot be read" }],
    };
  }
  for (const name of names) {
    const path = join(dir, name);
    const file = relative(projectRoot, path);
    const parsed = parseCustomerText(readFileSync(path, "utf8"), name, file);
    problems.push(...parsed.problems);
    if (parsed.file) files.push(parsed.file);
  }
  return { files, problems };
}

/** Parses one customer file's text. Pure (no I/O), so the table-driven tests feed it directly. */
export function parseCustomerText(
  text: string,
  fileName: string,
  file: string,
): { file?: ParsedCustomerFile; problems: InputProblem[] } {
  const slug = CUSTOMER_FILE.exec(fileName)?.[1] ?? fileName;
  const problems: InputProblem[] = [];
  if (!SLUG_PATTERN.test(slug)) {
    problems.push({
      file,
      field: "(file name)",
      message: `slug "${slug}" must be 1-63 lowercase letters, digits and hyphens, not starting or ending with a hyphen`,
    });
  }
  // What Proxmox VE would refuse (the slug is the container's host name and part of its tag).
  for (const p of containerNameProblems(slug)) problems.push({ file, ...p });
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors)
      problems.push({ file, field: "(yaml)", message: e.message.split("\n")[0] ?? e.message });
    return { problems };
  }
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
  return { file: problems.length === 0 ? { slug, file, data: result.data } : undefined, problems };
}
