/**
 * Input problems: every bad value the program finds in a stack file or a customer file is one
 * `InputProblem` naming the file and the field. They are collected, then thrown together as one
 * `InvalidInputError` before any resource is declared, so a user fixes everything in one pass.
 */

/** One bad value in one file. */
export interface InputProblem {
  /** File the value is in, relative to the project (e.g. `Pulumi.prod.yaml`, `customers/acme.yaml`). */
  readonly file: string;
  /** Key path inside the file (e.g. `nodepoint:nodes[0].cores`, `vmid`). */
  readonly field: string;
  /** What is wrong and, where it helps, how to fix it. */
  readonly message: string;
}

/**
 * Thrown, before anything is declared, when any input is invalid.
 *
 * Under the Pulumi CLI it prints as its message alone: the language host (`cmd/run`) shows an
 * error carrying Pulumi's `RunError` marker without stack frames or an object dump, and exits
 * with the code that tells the CLI the error was already reported. (The marker, not a subclass
 * of `pulumi.RunError`: this file is the input layer's and imports nothing.)
 */
export class InvalidInputError extends Error {
  /** The marker `pulumi.RunError.isInstance` checks (`@pulumi/pulumi/errors.js`). */
  readonly __pulumiRunError = true;

  constructor(readonly problems: readonly InputProblem[]) {
    super(`${formatProblems(problems)}\nNothing was declared.`);
    this.name = "InvalidInputError";
  }
}

export function formatProblem(p: InputProblem): string {
  return `${p.file}: ${p.field}: ${p.message}`;
}

export function formatProblems(problems: readonly InputProblem[]): string {
  const noun = problems.length === 1 ? "problem" : "problems";
  return [`${problems.length} input ${noun}:`, ...problems.map((p) => `  - ${formatProblem(p)}`)].join("\n");
}

/** Collects problems for one file; `throwIfAny` raises them all at once. */
export class ProblemList {
  readonly items: InputProblem[] = [];

  add(file: string, field: string, message: string): void {
    this.items.push({ file, field, message });
  }

  addAll(problems: readonly InputProblem[]): void {
    this.items.push(...problems);
  }

  get empty(): boolean {
    return this.items.length === 0;
  }

  throwIfAny(): void {
    if (this.items.length > 0) throw new InvalidInputError(this.items);
  }
}

/** Renders a zod issue path (`["nodes", 0, "cores"]`) as `nodes[0].cores`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}
