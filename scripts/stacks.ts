/**
 * The project's stacks, for CI's matrices: JSON `[{"stack","cluster"}]` of every stack that is a real
 * cluster (`nodepoint:deploy` not false), or every stack with `--all`. The cluster name is the
 * self-hosted runner's label: each cluster has a runner on its own LAN.
 *
 *   npm run --silent stacks [-- --all]
 */
import { projectStacks, stackConfigOf } from "../lib/config/stacks";
import { EXIT, parseCommandLine, runCli, UsageError } from "./cli";

const USAGE = `usage: npm run --silent stacks [-- --all]
  prints [{"stack": NAME, "cluster": CLUSTER}] of the stacks CI previews and deploys
  (every Pulumi.<stack>.yaml without nodepoint:deploy: false); --all: every stack`;

function main(): number {
  const { values, positionals } = parseCommandLine({
    options: { all: { type: "boolean", default: false }, help: { type: "boolean", short: "h", default: false } },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals.join(" ")}`);
  const root = process.cwd();
  const stacks = projectStacks(root)
    .map((stack) => ({ stack, config: stackConfigOf(stack, root) }))
    .filter((s) => values.all || s.config.deploy)
    .map((s) => ({ stack: s.stack, cluster: s.config.cluster.name }));
  console.log(JSON.stringify(stacks));
  return EXIT.ok;
}

runCli("stacks", USAGE, main);
