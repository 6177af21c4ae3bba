import type { z } from "zod";
import { formatPath, type InputProblem } from "../errors";

/**
 * Turns zod issues into input problems naming the file and the exact key.
 * `keyOf` maps the issue path to the key as the user writes it in that file.
 */
export function zodProblems(
  file: string,
  error: z.ZodError,
  keyOf: (path: string) => string = (p) => p,
): InputProblem[] {
  const problems: InputProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const path = formatPath([...issue.path, key]);
        problems.push({
          file,
          field: keyOf(path),
          message: "unknown key (check its spelling; unknown keys are refused)",
        });
      }
      continue;
    }
    const path = formatPath(issue.path);
    const message =
      issue.code === "invalid_type" && /received undefined$/.test(issue.message) ? "is required" : issue.message;
    problems.push({ file, field: keyOf(path), message });
  }
  return problems;
}
