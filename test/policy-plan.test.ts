// `npm run plan` runs the policy pack offline: a mandatory violation fails the plan and nothing is written.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runPlan } from "../plan/run";

describe("policies in the offline plan", () => {
  it("fails the plan on a mandatory violation, naming the policy and the object", async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rs-policy-plan-")), "out");
    const exposed = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "bge-public", namespace: "retrieval" },
      spec: { type: "LoadBalancer", ports: [{ port: 80 }] },
    };
    const result = await runPlan({
      stack: "local",
      outDir: out,
      // An engine Service that someone switched to LoadBalancer: schema-valid, but it bypasses the ingress.
      tamper: (plan) => {
        plan.objects.push(exposed);
        plan.resources.push({
          type: "kubernetes:core/v1:Service",
          name: "bge-public",
          urn: "urn:pulumi:local::retrieval-stack::kubernetes:core/v1:Service::bge-public",
          inputs: exposed,
        });
      },
    });
    expect(result.ok).toBe(false);
    expect(result.errors).toContain(
      "policy engines-cluster-internal (mandatory): Service retrieval/bge-public is of type LoadBalancer; only the ingress controller may be exposed outside the cluster. Use ClusterIP.",
    );
    expect(fs.existsSync(out)).toBe(false);
  });
});
