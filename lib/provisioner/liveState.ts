/**
 * Live state of customer containers from the Proxmox VE API, when the provisioner is given a token:
 * one `GET /api2/json/cluster/resources?type=vm` answers for every guest the token may audit
 * (pve-manager PVE/API2/Cluster.pm, `resources`: each guest is listed only with VM.Audit on
 * /vms/<vmid>), with the node it runs on now (after an HA move too), its status and usage.
 * A read-only token is enough: e.g. role PVEAuditor on /pool/customers.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** One container as /cluster/resources lists it (the fields the provisioner shows). */
export interface LiveGuest {
  vmid: number;
  node: string;
  status: string;
  cpu?: number;
  maxcpu?: number;
  mem?: number;
  maxmem?: number;
  disk?: number;
  maxdisk?: number;
  uptime?: number;
  hastate?: string;
}

export class LiveState {
  private cache: { at: number; guests: Map<number, LiveGuest> } | undefined;

  constructor(
    private readonly options: {
      /** API base, e.g. https://192.168.1.10:8006/ */
      endpoint: string;
      /** `user@realm!tokenid=secret` */
      token: string;
      /** Accept a self-signed certificate (the stack's `nodepoint:proxmox.insecure`). */
      insecure: boolean;
      maxAgeMs: number;
    },
  ) {}

  /** The container with this VMID, or undefined (not visible to the token, or the API is unreachable: `error` says). */
  async guest(vmid: number): Promise<{ guest?: LiveGuest; error?: string }> {
    try {
      const guests = await this.guests();
      const guest = guests.get(vmid);
      return guest ? { guest } : { error: `CT ${vmid} is not listed by the Proxmox VE API` };
    } catch (err) {
      return { error: (err as Error).message };
    }
  }

  private async guests(): Promise<Map<number, LiveGuest>> {
    if (this.cache && Date.now() - this.cache.at < this.options.maxAgeMs) return this.cache.guests;
    const body = await this.get("cluster/resources?type=vm");
    const data = (JSON.parse(body) as { data?: unknown }).data;
    if (!Array.isArray(data)) throw new Error("the Proxmox VE API answered without a data list");
    const guests = new Map<number, LiveGuest>();
    for (const raw of data as Array<Record<string, unknown>>) {
      if (raw["type"] !== "lxc" || typeof raw["vmid"] !== "number" || typeof raw["node"] !== "string") continue;
      const num = (k: string) => (typeof raw[k] === "number" ? { [k]: raw[k] } : {});
      guests.set(raw["vmid"], {
        vmid: raw["vmid"],
        node: raw["node"],
        status: typeof raw["status"] === "string" ? raw["status"] : "unknown",
        ...num("cpu"),
        ...num("maxcpu"),
        ...num("mem"),
        ...num("maxmem"),
        ...num("disk"),
        ...num("maxdisk"),
        ...num("uptime"),
        ...(typeof raw["hastate"] === "string" ? { hastate: raw["hastate"] } : {}),
      });
    }
    this.cache = { at: Date.now(), guests };
    return guests;
  }

  private get(path: string): Promise<string> {
    const url = new URL(
      `api2/json/${path}`,
      this.options.endpoint.endsWith("/") ? this.options.endpoint : `${this.options.endpoint}/`,
    );
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: "GET",
          headers: { Authorization: `PVEAPIToken=${this.options.token}`, Accept: "application/json" },
          timeout: 5000,
          ...(url.protocol === "https:" ? { rejectUnauthorized: !this.options.insecure } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (d: Buffer) => chunks.push(d));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (res.statusCode === 200) resolve(text);
            // PVE puts the reason in the status line (e.g. "401 authentication failure").
            else reject(new Error(`Proxmox VE API ${res.statusCode} ${res.statusMessage ?? ""}`.trim()));
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error("Proxmox VE API did not answer within 5 s")));
      req.on("error", reject);
      req.end();
    });
  }
}
