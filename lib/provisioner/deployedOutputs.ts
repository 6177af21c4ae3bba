/**
 * The last deployed outputs of the stack: `pulumi stack output --json --stack <stack>`, run in the
 * working copy with the Pulumi CLI and the backend login of the provisioner's host. Without
 * `--show-secrets` the CLI prints every secret as the string "[secret]" (pulumi/pulumi
 * pkg/backend/display: massagePropertyValue), so nothing secret reaches the provisioner.
 *
 * `sitesBySlug` (index.ts) tells, per customer, what the last successful `pulumi up` left: its
 * state among them. That is how the provisioner learns that a decommission is deployed, and what
 * GET /status reports as deployed.
 */
import { spawn } from "node:child_process";

/** One customer's entry of the `sitesBySlug` stack output (secrets left out). */
export interface DeployedSite {
  url?: string;
  ip?: string;
  vmId?: number;
  node?: string;
  state?: string;
}

export interface DeployedOutputs {
  sites: Map<string, DeployedSite>;
  /** When these outputs were read. */
  readAt: Date;
}

/** Reads `sitesBySlug` from `pulumi stack output --json` text. */
export function parseStackOutputs(json: string): Map<string, DeployedSite> {
  const all = JSON.parse(json) as Record<string, unknown>;
  const sites = all["sitesBySlug"];
  const out = new Map<string, DeployedSite>();
  if (!sites || typeof sites !== "object") return out;
  for (const [slug, value] of Object.entries(sites as Record<string, unknown>)) {
    if (!value || typeof value !== "object") continue;
    const v = value as Record<string, unknown>;
    const str = (k: string) => (typeof v[k] === "string" && v[k] !== "[secret]" ? v[k] : undefined);
    out.set(slug, {
      ...(str("url") ? { url: str("url")! } : {}),
      ...(str("ip") ? { ip: str("ip")! } : {}),
      ...(typeof v["vmId"] === "number" ? { vmId: v["vmId"] } : {}),
      ...(str("node") ? { node: str("node")! } : {}),
      ...(str("state") ? { state: str("state")! } : {}),
    });
  }
  return out;
}

export class DeployedOutputsReader {
  private cache: { value: DeployedOutputs | undefined; at: number } | undefined;
  private warned = false;

  constructor(
    private readonly options: {
      /** The Pulumi CLI; `off` when the host has none (decommissioned files then stay until removed by hand). */
      pulumi: string;
      stack: string;
      /** Where Pulumi.yaml is (the working copy). */
      cwd: string;
      env: NodeJS.ProcessEnv;
      /** How long a reading is reused. */
      maxAgeMs: number;
      log: (level: "warn" | "info", msg: string) => void;
    },
  ) {}

  get enabled(): boolean {
    return this.options.pulumi !== "off";
  }

  /** The last deployed outputs, or undefined when they cannot be read (the reason is logged once). */
  async read(): Promise<DeployedOutputs | undefined> {
    if (!this.enabled) return undefined;
    const now = Date.now();
    if (this.cache && now - this.cache.at < this.options.maxAgeMs) return this.cache.value;
    let value: DeployedOutputs | undefined;
    try {
      const text = await this.run(["stack", "output", "--json", "--stack", this.options.stack]);
      value = { sites: parseStackOutputs(text), readAt: new Date() };
      this.warned = false;
    } catch (err) {
      if (!this.warned)
        this.options.log(
          "warn",
          `cannot read the deployed outputs (${(err as Error).message}); decommissioned files are kept until they can be read`,
        );
      this.warned = true;
      value = undefined;
    }
    this.cache = { value, at: now };
    return value;
  }

  /** Forget the cached reading (after a deploy is expected). */
  invalidate(): void {
    this.cache = undefined;
  }

  private run(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.pulumi, [...args, "--non-interactive"], {
        cwd: this.options.cwd,
        env: this.options.env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (d: Buffer) => out.push(d));
      child.stderr.on("data", (d: Buffer) => err.push(d));
      child.on("error", reject);
      child.on("close", (code) =>
        code === 0
          ? resolve(Buffer.concat(out).toString("utf8"))
          : reject(
              new Error(
                `pulumi ${args.join(" ")} exited ${code}: ${Buffer.concat(err).toString("utf8").trim().slice(0, 300)}`,
              ),
            ),
      );
    });
  }
}
