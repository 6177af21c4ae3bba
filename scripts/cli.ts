/**
 * What the project's command-line tools (`npm run plan`, `customer`, `bench`) share: `--help`/`-h`
 * prints the usage (exit 0), a usage error prints what is wrong and the usage (exit 2), a bad input
 * prints its problems (exit 1), anything else one line naming the tool (exit 1; `--debug` adds the
 * stack trace). Tools return their own exit codes otherwise.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { InvalidInputError } from "../lib/errors";

/** Exit codes every tool uses. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A command line the tool cannot act on: wrong option, missing or extra argument. */
export class UsageError extends Error {}

/** `parseArgs`, strict, with its errors turned into usage errors. */
export function parseCommandLine<T extends ParseArgsConfig>(config: T, args: string[] = process.argv.slice(2)) {
  try {
    return parseArgs({ strict: true, ...config, args });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** True when the command line asks for help, wherever `--help`/`-h` stands. */
export function wantsHelp(args: string[] = process.argv.slice(2)): boolean {
  return args.some((a) => a === "--help" || a === "-h");
}

/**
 * Runs a tool's `main` and exits with its code. Help is answered before `main` runs, so it works
 * alongside any other (even wrong) argument.
 */
export function runCli(name: string, usage: string, main: () => number | Promise<number>): void {
  const args = process.argv.slice(2);
  const debug = args.includes("--debug");
  const finish = (code: number) => process.exit(code);
  if (wantsHelp(args)) {
    console.log(usage);
    finish(EXIT.ok);
    return;
  }
  Promise.resolve()
    .then(main)
    .then(finish, (err: unknown) => {
      if (err instanceof UsageError) {
        console.error(`${name}: ${err.message}\n${usage}`);
        finish(EXIT.usage);
        return;
      }
      if (err instanceof InvalidInputError) console.error(err.message);
      else console.error(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      if (debug && err instanceof Error && err.stack) console.error(err.stack);
      else if (!(err instanceof InvalidInputError)) console.error("(run with --debug for the stack trace)");
      finish(EXIT.failed);
    });
}
