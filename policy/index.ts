// The CrossGuard entry point: `pulumi preview --policy-pack policy --policy-pack-config <file>`.
// The only place that constructs the PolicyPack; rules live in ./rules as plain objects (see pack.ts).
import { PolicyPack } from "@pulumi/policy";
import { toPulumiPolicy } from "./pack";
import { POLICY_RULES } from "./rules";

new PolicyPack("retrieval-stack", {
  description:
    "Guards every retrieval-stack deployment: GPU scheduling, pinned images and charts, probes, exposure, availability, secrets, spot capacity.",
  policies: POLICY_RULES.map(toPulumiPolicy),
});
