/**
 * How the program is being run: by the Pulumi engine (`pulumi preview`, `pulumi up`), or inside the
 * offline plan (`npm run plan`, the tests), which marks its runs here. Only the offline runner sets
 * the mark, in its own process, around the program it runs; a run under the Pulumi CLI never has it.
 *
 * The mark is a global (`Symbol.for`), not module state: tests re-import the program for every plan
 * (fresh module registry), and the runner and the program must see the same mark.
 */

/** What an offline run asks of the program. */
export interface OfflineRun {
  /**
   * The committed desired state to compare customer placements with (replacing changes need
   * `confirmReplace`): a path, `false` for none (tests with their own customer fixtures), or
   * unset for the stack's `desired-state/<stack>.json`.
   */
  readonly desiredState?: string | false;
}

const MARK = Symbol.for("nodepoint.offlineRun");
type Holder = { [MARK]?: OfflineRun };

/** The offline run in progress, or undefined when the Pulumi engine runs the program. */
export function offlineRun(): OfflineRun | undefined {
  return (globalThis as Holder)[MARK];
}

/** Marks the runs until the returned function is called (the offline runner, around the program). */
export function markOfflineRun(run: OfflineRun): () => void {
  const holder = globalThis as Holder;
  const before = holder[MARK];
  holder[MARK] = run;
  return () => {
    if (before === undefined) delete holder[MARK];
    else holder[MARK] = before;
  };
}
