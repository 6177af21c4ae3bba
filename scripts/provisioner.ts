/**
 * The provisioning backend Paymenter's ProxmoxWP extension calls (README, "Provisioning from
 * billing"). Configured by environment only:
 *
 *   PROVISIONER_TOKEN=... PROVISIONER_REPO=git@github.com:org/platform.git npm run provisioner
 *
 * Stops cleanly on SIGTERM / SIGINT (finishes the cycle under way; every accepted event is already
 * on disk and is applied after the next start).
 */
import { resolve } from "node:path";
import { startProvisioner } from "../lib/provisioner/service";
import { settingsFromEnv, SettingsError } from "../lib/provisioner/settings";

async function main(): Promise<void> {
  let settings;
  try {
    settings = settingsFromEnv(process.env);
  } catch (err) {
    if (err instanceof SettingsError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const running = await startProvisioner(settings, {
    env: process.env,
    ownRoot: resolve(__dirname, ".."),
    logLevel: process.env["PROVISIONER_LOG_LEVEL"] ?? "info",
    onFatal: () => process.exit(1),
  });
  const stop = (signal: string) => {
    running.app.log.info(`${signal}: stopping`);
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  console.error(`provisioner: ${(err as Error).message}`);
  process.exit(1);
});
