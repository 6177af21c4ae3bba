/** The provisioning flow per customer, and the isolation between customers, as the plan declares them. */
import { beforeAll, describe, expect, it } from "vitest";
import type { OfflineRunResult, RecordedResource } from "../lib/plan/offlineRuntime";
import { byName, INSTALLER_PUBLIC_KEY, offlinePlan, scratchCustomers } from "./helpers/offlinePlan";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROVIDER_LOADER } from "../lib/npm/providerLoader";
import { INSTALL_SCRIPT_SHA256, INSTALLER_PATH, INSTALLER_SOURCE, installCommand } from "../lib/wordpress/installer";
import { planDocument } from "../lib/plan/planJson";

let plan: OfflineRunResult;
beforeAll(async () => {
  plan = await offlinePlan();
});
const res = (name: string, type?: string): RecordedResource => byName(plan.resources, name, type);
const slugs = ["acme-bakery", "nordlicht", "studio-kern"];

describe("isolation", () => {
  it("one security group: web from the proxy, SSH from management, nothing else in", () => {
    expect(res("customer-isolation-customer-web", "GroupLegacy").inputs["rules"]).toEqual([
      {
        type: "in",
        action: "ACCEPT",
        proto: "tcp",
        dport: "80,443",
        source: "+nodepoint-proxy",
        comment: "web traffic from Nginx Proxy Manager",
      },
      {
        type: "in",
        action: "ACCEPT",
        proto: "tcp",
        dport: "22",
        source: "+nodepoint-mgmt",
        comment: "SSH from the management network",
      },
    ]);
    expect(res("customer-isolation-nodepoint-proxy", "IpsetLegacy").inputs["cidrs"]).toEqual([
      { name: "192.168.1.201" },
    ]);
    expect(res("customer-isolation-nodepoint-mgmt", "IpsetLegacy").inputs["cidrs"]).toEqual([{ name: "10.8.0.0/24" }]);
    expect(res("customer-isolation-datacenter-firewall").inputs).toMatchObject({
      enabled: true,
      inputPolicy: "ACCEPT",
    });
  });

  it.each(slugs)("%s: firewall on, input DROP, the group as its only rule, anti-spoofing on", (slug) => {
    const ct = res(`${slug}-ct`).inputs as any;
    expect(ct.networkInterfaces).toEqual([{ name: "eth0", bridge: "vmbr0", firewall: true }]);
    expect(res(`${slug}-firewall`, "OptionsLegacy").inputs).toMatchObject({
      containerId: ct.vmId,
      nodeName: ct.nodeName,
      enabled: true,
      inputPolicy: "DROP",
      ipfilter: true,
      macfilter: true,
    });
    expect(res(`${slug}-firewall-rules`, "RulesLegacy").inputs["rules"]).toEqual([
      { securityGroup: "customer-web", comment: "nodepoint customer isolation" },
    ]);
  });

  it("customer-side resources use the customer token; HA and cluster firewall the infrastructure token", () => {
    const customerProvider = res("proxmox-customers").urn;
    const infraProvider = res("proxmox-infra").urn;
    for (const slug of slugs) {
      for (const name of [`${slug}-ct`, `${slug}-firewall`, `${slug}-firewall-rules`])
        expect(res(name).provider, name).toBe(customerProvider);
    }
    expect(res("nordlicht-ha").provider).toBe(infraProvider);
    expect(res("customer-isolation-customer-web").provider).toBe(infraProvider);
  });
});

describe("provisioning flow per customer", () => {
  it.each(slugs)(
    "%s: proxy host to the container on port 80 with SSL forced, no credential stored with it, after DNS",
    (slug) => {
      const ct = res(`${slug}-ct`).inputs as any;
      const proxy = res(`${slug}-proxy`);
      expect(proxy.type).toBe("pulumi-nodejs:dynamic/nodepoint:NpmProxyHost");
      // The provider logs in as the stack's NPM user (stack config), never from the state.
      expect(proxy.inputs).toEqual({
        __provider: PROVIDER_LOADER,
        apiUrl: "http://192.168.1.201:81/api",
        domain: expect.stringMatching(/\.nodepoint\.eu$/),
        forwardHost: ct.initialization.ipConfigs[0].ipv4.address.split("/")[0],
        forwardPort: 80,
        sslForced: true,
      });
      expect(proxy.options.dependsOn).toContain(res(`${slug}-ct`).urn);
      // Let's Encrypt's HTTP challenge needs the domain's A record: the proxy host waits for it.
      expect(proxy.options.dependsOn).toContain(res(`${slug}-dns`).urn);
    },
  );

  it.each(slugs)(
    "%s: WordPress installed over SSH with the installer key, after the container's firewall, settings secret",
    (slug) => {
      const copy = res(`${slug}-installer`, "CopyToRemote");
      const install = res(`${slug}-wordpress`, "Command");
      // The script goes as a file asset (the state keeps its path and hash), then runs.
      expect(copy.inputs).toEqual({
        connection: "[secret]",
        source: `[file asset ${INSTALLER_SOURCE}]`,
        remotePath: INSTALLER_PATH,
      });
      expect(install.inputs).toMatchObject({ connection: "[secret]", stdin: "[secret]", create: installCommand() });
      expect(install.inputs["triggers"]).toBeUndefined();
      for (const step of [copy, install]) {
        expect(step.options.dependsOn).toContain(res(`${slug}-ct`).urn);
        // Only once the container's firewall admits SSH from the management network.
        expect(step.options.dependsOn).toContain(res(`${slug}-firewall`, "OptionsLegacy").urn);
        expect(step.options.dependsOn).toContain(res(`${slug}-firewall-rules`, "RulesLegacy").urn);
        expect(step.options.replaceWith).toEqual([res(`${slug}-ct`).urn]);
      }
      expect(install.options.dependsOn).toContain(copy.urn);
      // The installer key's public half goes into root's authorized_keys when the container is created.
      expect((res(`${slug}-ct`).inputs as any).initialization.userAccount.keys).toEqual([INSTALLER_PUBLIC_KEY]);
    },
  );

  // What the installer steps' connection holds (no private key) is checked on the real path, where
  // its plain value is seen: tests/runtime/stateBudget.test.ts.
  it("one installer key for every site, from the stack config (nodepoint:installerSshKey): no key resource", () => {
    expect(plan.resources.filter((r) => r.type.startsWith("tls:"))).toEqual([]);
  });

  it("the installer command checks the copied script against its SHA-256, so a new script changes the command", () => {
    expect(installCommand()).toContain(`echo "${INSTALL_SCRIPT_SHA256}  $f"|sha256sum -c --quiet>&2&&`);
    expect(installCommand()).toMatch(/&&exec \$f$/);
    const doc = planDocument("prod", plan.resources);
    expect(byName(doc.resources, "acme-bakery-wordpress").inputs["create"]).toBe(installCommand());
  });

  it("outputs per customer: URL, admin URL, admin user, secret password, state", () => {
    const sites = plan.outputs["sitesBySlug"] as Record<string, Record<string, unknown>>;
    expect(sites["nordlicht"]).toMatchObject({
      url: "https://nordlicht.nodepoint.eu/",
      adminUrl: "https://nordlicht.nodepoint.eu/wp-admin/",
      adminUser: "admin",
      adminPassword: "[secret]",
      state: "active",
      vmId: 1001,
    });
  });

  it("suspended keeps DNS and proxy but installs nothing; decommissioned drops proxy and DNS", async () => {
    for (const [state, proxy, install] of [
      ["suspended", true, false],
      ["decommissioned", false, false],
    ] as const) {
      const dir = scratchCustomers();
      try {
        const path = join(dir.dir, "studio-kern.yaml");
        writeFileSync(path, readFileSync(path, "utf8").replace("state: active", `state: ${state}`));
        const r = (await offlinePlan({ customersDir: dir.dir })).resources;
        expect(
          r.some((x) => x.name === "studio-kern-proxy"),
          `${state} proxy`,
        ).toBe(proxy);
        expect(
          r.some((x) => x.name === "studio-kern-wordpress"),
          `${state} installer`,
        ).toBe(install);
        expect(r.some((x) => x.name === "studio-kern-firewall")).toBe(true);
      } finally {
        dir.cleanup();
      }
    }
  });
});
