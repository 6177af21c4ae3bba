import { afterAll, beforeAll, expect } from "vitest";
import type { RecordedResource } from "../../lib/plan/offlineRuntime";
import { startDynamicProviderHost, type DynamicProviderHost } from "../../lib/runtimePath/dynamicProviderHost";
import { offlinePlan, ROOT } from "../helpers/offlinePlan";
import { useFakePve } from "./fakePveServer";
import { emptyAccessState } from "./permissionModel";
import { accessStateOf } from "./planAccess";
import { pveStackConfig } from "./pveStackConfig";

/** The automation tokens the fake PVE knows, both with the same secret. */
export const PVE_TOKENS = { infrastructure: "pulumi-infra@pve!iac", customer: "pulumi-customers@pve!iac" } as const;
export const PVE_TOKEN_SECRET = "6a1f0c3e-9b2d-4e7a-8c5f-0d1e2f3a4b5c";

/**
 * The program's PVE dynamic providers as `pulumi up` runs them, against the fake PVE API (schema and
 * permission checks with the grants the offline plan declares): the SDK's dynamic-provider plugin,
 * configured as the engine configures it, with the stack's whole config (the fake's endpoint and the
 * tokens `inConfig` names). `host` and `plan` are there once the suite's `beforeAll` has run.
 */
export function usePvePluginOnFake(inConfig: ReadonlyArray<keyof typeof PVE_TOKENS>) {
  const access = emptyAccessState();
  const fake = useFakePve({
    tokens: { [PVE_TOKENS.infrastructure]: PVE_TOKEN_SECRET, [PVE_TOKENS.customer]: PVE_TOKEN_SECRET },
    access,
  });
  const tokens = Object.fromEntries(inConfig.map((t) => [t, `${PVE_TOKENS[t]}=${PVE_TOKEN_SECRET}`]));
  const ran: { host?: DynamicProviderHost; plan?: RecordedResource[] } = {};
  beforeAll(async () => {
    ran.plan = (await offlinePlan()).resources;
    Object.assign(access, accessStateOf(ran.plan));
    ran.host = await startDynamicProviderHost({ root: ROOT, config: pveStackConfig(fake.endpoint, tokens) });
  }, 0);
  afterAll(() => ran.host?.close());
  return {
    fake,
    get host(): DynamicProviderHost {
      if (!ran.host) throw new Error("the plugin starts in beforeAll");
      return ran.host;
    },
    get plan(): RecordedResource[] {
      if (!ran.plan) throw new Error("the plan runs in beforeAll");
      return ran.plan;
    },
  };
}

/** The message a plugin call failed with; it must never carry the tokens' secret. */
export async function failure(call: Promise<unknown>): Promise<string> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err, "expected the call to fail").toBeDefined();
  expect(err!.message).not.toContain(PVE_TOKEN_SECRET);
  return err!.message;
}
