/**
 * Writes every generated file of the project (lib/generate.ts lists them: the PVE validation bounds,
 * the customer JSON Schema, per deployed stack its policy config and its desired state).
 *
 *   npm run generate             rewrite the files that are out of date
 *   npm run generate -- --check  write nothing; exit 1 naming every missing or stale file (tests, CI)
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { artefacts, currentText } from "../lib/generate";
import { GENERATE_COMMAND } from "../lib/generatedFile";
import { parseCommandLine, runCli } from "./cli";

const USAGE = `usage: npm run generate [-- --check]
  (no option)   rewrite every generated file that is out of date
  --check       write nothing; exit 1 naming every missing or out-of-date file`;

async function main(): Promise<number> {
  const { values } = parseCommandLine({
    options: {
      check: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const root = process.cwd();
  let stale = 0;
  for (const artefact of artefacts(root)) {
    const text = artefact.render();
    const current = currentText(root, artefact);
    if (current === text) continue;
    stale++;
    const state = current === undefined ? "missing" : "out of date";
    if (values.check) console.error(`${artefact.file} is ${state} (derived from ${artefact.from})`);
    else {
      writeFileSync(join(root, artefact.file), text);
      console.log(`wrote ${artefact.file} (${state}; derived from ${artefact.from})`);
    }
  }
  if (values.check && stale > 0) {
    console.error(`run ${GENERATE_COMMAND} and commit the result`);
    return 1;
  }
  if (!values.check && stale === 0) console.log("every generated file is up to date");
  return 0;
}

runCli("generate", USAGE, main);
