/**
 * The nodepoint policy pack: `pulumi preview --policy-pack policy` (run `npm install` in this
 * directory first). The policies live in ./policies, where they are unit-tested; constructing the
 * `PolicyPack` starts the analyzer's gRPC server, so nothing but the CLI should import this file.
 *
 * The import is `@pulumi/policy/policy` rather than the package root: see the note in ./policies.
 */
import { PolicyPack } from "@pulumi/policy/policy";
import { policies } from "./policies";

new PolicyPack("nodepoint-policy", {
  description:
    "nodepoint: customer container isolation and sizing, HA limits, protected guests, only the router privileged, no plain-text credentials.",
  enforcementLevel: "mandatory",
  policies,
});
