/**
 * GET /status: from the customer files (with accepted events), the last deployed outputs (the fake
 * Pulumi CLI), and with a Proxmox token the live state from a Proxmox VE API on loopback that answers
 * `GET /api2/json/cluster/resources?type=vm` as the PVE 9 API schema describes it.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PVE_API_SCHEMA_PATH } from "../../lib/contracts";
import {
  deploy,
  eventually,
  fakePulumi,
  freshRemote,
  paymenter,
  remoteCustomer,
  startService,
  tempDir,
  type Service,
} from "./harness";

const PVE_TOKEN = "provisioner@pve!status=4f1c2b7e-9a3d-4e8f-b6a1-0c5d7e9f1a2b";
let remote: string;
let service: Service;
let outputs: string;
let pve: Server;
const pveRequests: Array<{ url: string; auth: string | undefined }> = [];
/** What the fake PVE lists: CT 1003 running on node1 (HA moved it from node2), as /cluster/resources shows guests. */
const resources = [
  {
    id: "lxc/1003",
    type: "lxc",
    vmid: 1003,
    name: "hanna",
    node: "node1",
    status: "running",
    cpu: 0.005,
    maxcpu: 2,
    mem: 536870912,
    maxmem: 2147483648,
    disk: 3221225472,
    maxdisk: 21474836480,
    uptime: 5 * 86400 + 120,
    hastate: "started",
    pool: "customers",
    tags: "basic;customer-hanna",
  },
  { id: "node/node1", type: "node", node: "node1", status: "online" },
];

beforeAll(async () => {
  pve = createServer((req, res) => {
    pveRequests.push({ url: req.url ?? "", auth: req.headers.authorization });
    if (req.headers.authorization !== `PVEAPIToken=${PVE_TOKEN}`) {
      res.writeHead(401, "authentication failure");
      res.end();
      return;
    }
    if (req.url === "/api2/json/cluster/resources?type=vm") {
      res.writeHead(200, { "Content-Type": "application/json;charset=UTF-8" });
      res.end(JSON.stringify({ data: resources.filter((r) => r.type !== "node") }));
      return;
    }
    res.writeHead(501, "Method not implemented");
    res.end();
  });
  await new Promise<void>((r) => pve.listen(0, "127.0.0.1", r));
  remote = freshRemote();
  const dir = tempDir("status-pulumi-");
  outputs = join(dir, "outputs.json");
  service = await startService({
    remote,
    env: {
      PROVISIONER_PULUMI: fakePulumi(dir, outputs),
      PROVISIONER_PROXMOX_TOKEN: PVE_TOKEN,
      PROVISIONER_PROXMOX_ENDPOINT: `http://127.0.0.1:${(pve.address() as AddressInfo).port}/`,
    },
  });
}, 120_000);
afterAll(async () => {
  await service?.stop();
  await new Promise((r) => pve.close(r));
});

describe("GET /status", { timeout: 60_000 }, () => {
  it("the fake PVE answers only fields the PVE API schema declares for /cluster/resources, with their types", () => {
    type Node = {
      path?: string;
      children?: Node[];
      info?: Record<string, { returns: { items: { properties: Record<string, { type: string }> } } }>;
    };
    const find = (nodes: Node[]): Node | undefined => {
      for (const n of nodes) {
        if (n.path === "/cluster/resources") return n;
        const c = find(n.children ?? []);
        if (c) return c;
      }
      return undefined;
    };
    const props = find(JSON.parse(readFileSync(PVE_API_SCHEMA_PATH, "utf8")) as Node[])!.info!["GET"]!.returns.items
      .properties;
    for (const r of resources)
      for (const [k, v] of Object.entries(r)) {
        expect(props[k], k).toBeDefined();
        const t = props[k]!.type;
        expect(t === "integer" || t === "number" ? typeof v === "number" : typeof v === t, `${k}: ${t}`).toBe(true);
      }
  });

  it("answers from the files, the deployed outputs and the live container", async () => {
    const api = paymenter(service);
    await api.createServer(601, "hanna@example.org", "basic");
    await eventually(() => remoteCustomer(remote, "hanna"));
    deploy(remote, outputs);
    const s = await eventually(async () => {
      const r = await api.status(601);
      const p = r.body["provisioning"] as { deployed: unknown; pending_events: unknown[] };
      return p.deployed && p.pending_events.length === 0 ? r : undefined;
    });
    expect(s).toEqual({
      status: 200,
      body: {
        success: true,
        service_id: "601",
        vmid: 1003,
        private_ip: "192.168.1.103",
        subdomain: "hanna",
        domain: "hanna.nodepoint.eu",
        public_ip: "203.0.113.10",
        status: "running",
        state: "active",
        plan: "basic",
        node: "node1",
        email: "hanna@example.org",
        resources: { cpu: "0.5%", memory: "512MB / 2048MB", disk: "3.0GB / 20.0GB", uptime: "5 days" },
        domains: ["hanna.nodepoint.eu"],
        provisioning: {
          pending_events: [],
          on_branch: { state: "active", plan: "basic" },
          deployed: {
            url: "https://hanna.nodepoint.eu/",
            ip: "192.168.1.103",
            vmId: 1003,
            node: "node2",
            state: "active",
          },
          deployed_outputs: { read_at: expect.any(String) },
        },
      },
    });
    expect(pveRequests.every((r) => r.auth === `PVEAPIToken=${PVE_TOKEN}`)).toBe(true);
    expect(service.output()).not.toContain("4f1c2b7e-9a3d");
  });
});
