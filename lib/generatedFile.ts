import { readFileSync } from "node:fs";
import { z } from "zod";

/** The command that (re)writes every generated file of the project (lib/generate.ts lists them). */
export const GENERATE_COMMAND = "npm run generate";

/**
 * Reads a build-time artefact (a generated JSON file) and validates it; a missing or malformed
 * file is an error naming the file and the command that regenerates it.
 */
export function readGeneratedJson<T extends z.ZodType>(file: string, schema: T, regenerate: string): z.infer<T> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: cannot be read (${(err as Error).message}); regenerate it with ${regenerate}`, {
      cause: err,
    });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}\nregenerate it with ${regenerate}`);
  return parsed.data;
}
