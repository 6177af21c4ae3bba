/**
 * The fake engine answers a registration the way the real one does (pulumi/pulumi
 * pkg/resource/deploy/source_eval.go RegisterResource: the answer is marshalled without output
 * values), so the SDK does the same work on the answer as under the CLI; and the real-sized computed
 * outputs (lib/runtimePath/realisticOutputs.ts) have the forms the providers return.
 */
import * as grpc from "@grpc/grpc-js";
import * as pulumi from "@pulumi/pulumi";
import * as resourceRpc from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as resourceProto from "@pulumi/pulumi/proto/resource_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { describe, expect, test } from "vitest";
import { startFakeEngine, type FakeEngineOptions } from "../../lib/runtimePath/fakeEngine";
import { realisticComputedOutputs } from "../../lib/runtimePath/realisticOutputs";

const SIG = pulumi.runtime.specialSigKey;
const OUTPUT = pulumi.runtime.specialOutputValueSig;
const SECRET = pulumi.runtime.specialSecretSig;

/** Registers one custom resource with `object` and returns the engine's answer. */
async function answerTo(options: Omit<FakeEngineOptions, "project" | "stack">, object: Record<string, unknown>) {
  const engine = await startFakeEngine({ project: "p", stack: "s", ...options });
  const client = new resourceRpc.ResourceMonitorClient(engine.address, grpc.credentials.createInsecure());
  try {
    const req = new resourceProto.RegisterResourceRequest()
      .setType("x:index:Thing")
      .setName("thing")
      .setCustom(true)
      .setObject(Struct.fromJavaScript(object as never));
    const res = await new Promise<resourceProto.RegisterResourceResponse>((resolve, reject) =>
      client.registerResource(req, (err, r) => (err ? reject(err) : resolve(r))),
    );
    return { object: res.getObject()?.toJavaScript() ?? {}, id: res.getId(), engine };
  } finally {
    client.close();
    await engine.close();
  }
}

const sent = {
  plain: { [SIG]: OUTPUT, value: "a", dependencies: ["urn:pulumi:s::p::x:index:Other::o"] },
  hidden: { [SIG]: OUTPUT, value: "pw", secret: true },
  later: { [SIG]: OUTPUT, dependencies: ["urn:pulumi:s::p::x:index:Other::o"] },
};

describe("the fake engine's answer to RegisterResource", () => {
  test.each([true, false])("dry run %s: output values arrive as their value, a secret, or unknown", async (dryRun) => {
    const { object, engine } = await answerTo({ dryRun }, sent);
    expect(object).toEqual({
      plain: "a",
      hidden: { [SIG]: SECRET, value: "pw" },
      later: pulumi.runtime.unknownValue,
    });
    // What it records is what the program sent.
    expect(engine.inputsOf(engine.resources[0]!.urn)).toEqual(sent);
  });

  test("a preview gives a resource to be created no ID; an update the handler's", async () => {
    expect((await answerTo({ dryRun: true }, {})).id).toBe("");
    expect((await answerTo({ dryRun: false }, {})).id).toBe("thing-id");
  });
});

describe("real-sized computed outputs", () => {
  test("passwords have the requested length; a token's secret is user!name=uuid", () => {
    const pw = realisticComputedOutputs({
      urn: "u",
      type: "random:index/randomPassword:RandomPassword",
      name: "pw",
      inputs: { length: 24 },
      importId: undefined,
    });
    expect(pw["result"]).toHaveLength(24);
    expect(pw["bcryptHash"]).toHaveLength(60);
    const token = realisticComputedOutputs({
      urn: "u",
      type: "proxmoxve:user/token:Token",
      name: "t",
      inputs: { userId: "pulumi-customers@pve", tokenName: "iac" },
      importId: undefined,
    });
    expect(token["value"]).toMatch(/^pulumi-customers@pve!iac=[0-9a-f-]{36}$/);
  });
});
