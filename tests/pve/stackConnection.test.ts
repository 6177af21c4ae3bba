/** The program's own PVE resources connect with the stack config's endpoint and infrastructure token. */
import { describe, expect, test } from "vitest";
import { PVE_CONFIG, pveConnectionFromConfig, stackConnection } from "../../lib/pve/stackConnection";

const TOKEN = "pulumi-infra@pve!iac=9f2c4b1e-0d6a-4e3b-9a77-5c1d2e3f4a5b";
const configOf = (entries: Record<string, string>) => ({ get: (key: string) => entries[key] });
const stack = {
  [PVE_CONFIG.proxmox]: JSON.stringify({ endpoint: "https://192.168.1.10:8006/", insecure: true }),
  [PVE_CONFIG.token]: TOKEN,
};

describe("the stack's PVE connection", () => {
  test("endpoint and insecure from nodepoint:proxmox, the token from proxmoxve:apiToken", () => {
    expect(pveConnectionFromConfig(configOf(stack))).toEqual({
      endpoint: "https://192.168.1.10:8006/",
      insecure: true,
      apiToken: TOKEN,
    });
  });

  test.each([
    [{ [PVE_CONFIG.token]: TOKEN }, "stack config nodepoint:proxmox has no endpoint"],
    [{ ...stack, [PVE_CONFIG.proxmox]: "{not json" }, "stack config nodepoint:proxmox has no endpoint"],
    [{ ...stack, [PVE_CONFIG.proxmox]: '{"endpoint":"192.168.1.10"}' }, "has no endpoint"],
    [{ [PVE_CONFIG.proxmox]: stack[PVE_CONFIG.proxmox] }, "stack config proxmoxve:apiToken is not set"],
  ])("%j: an error naming the key", (entries, message) => {
    expect(() => pveConnectionFromConfig(configOf(entries as Record<string, string>))).toThrow(message);
  });

  test("a provider uses the stack's, a resource's own connection wins, and an unconfigured one says why", () => {
    const connection = stackConnection();
    expect(() => connection.use(undefined)).toThrow("the provider was not configured with the stack config");
    connection.configure(configOf({ [PVE_CONFIG.proxmox]: stack[PVE_CONFIG.proxmox] }));
    expect(() => connection.use(undefined)).toThrow("no PVE connection: stack config proxmoxve:apiToken is not set");
    const own = { endpoint: "https://10.0.0.1:8006/", insecure: false, apiToken: "other@pve!t=x" };
    expect(connection.use(own)).toBe(own);
    connection.configure(configOf(stack));
    expect(connection.use(undefined).apiToken).toBe(TOKEN);
  });
});
