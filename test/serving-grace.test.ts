/**
 * An engine pod told to stop may still be serving the longest call a client can make to it: the ingress's
 * timeoutSeconds on a direct route, the gateway's upstreamTimeoutSeconds per attempt. Its grace period covers the
 * preStop sleep plus that call, in every stack's rendered manifests (Deployments and KServe predictors).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { describe, expect, it } from "vitest";
import { PRE_STOP_SLEEP_SECONDS, longestCallSeconds } from "../components/serving/pod";
import { STACKS, parseStack } from "./config-helpers";
import { sharedPlan } from "./shared-plans";

function modelPods(out: string): { name: string; grace: number }[] {
  const dir = path.join(out, "manifests", "retrieval");
  if (!fs.existsSync(dir)) return [];
  const pods: { name: string; grace: number }[] = [];
  for (const f of fs.readdirSync(dir)) {
    const o = YAML.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    if (o?.metadata?.labels?.["app.kubernetes.io/component"] !== "model-server") continue;
    if (o.kind === "Deployment")
      pods.push({ name: o.metadata.name, grace: o.spec.template.spec.terminationGracePeriodSeconds });
    if (o.kind === "InferenceService")
      pods.push({ name: o.metadata.name, grace: o.spec.predictor.terminationGracePeriodSeconds });
  }
  return pods;
}

describe("engine pods' grace period covers the longest call they may be serving", () => {
  it("the longest call is the ingress's timeout where it routes, the gateway's per-attempt timeout where it runs", () => {
    const ingress = { enabled: true, timeoutSeconds: 300 };
    const gateway = { enabled: true, upstreamTimeoutSeconds: 60 };
    expect(longestCallSeconds({ ingress, gateway })).toBe(300);
    expect(longestCallSeconds({ ingress: { ...ingress, enabled: false }, gateway })).toBe(60);
    expect(longestCallSeconds({ ingress: { ...ingress, timeoutSeconds: 30 }, gateway })).toBe(60);
  });

  it.each(STACKS)("%s", async (stack) => {
    const { out, result } = await sharedPlan(stack);
    expect(result.code, result.stderr).toBe(0);
    const config = parseStack(stack);
    const longest = Math.max(
      config.ingress.enabled ? config.ingress.timeoutSeconds : 0,
      config.gateway.enabled ? config.gateway.upstreamTimeoutSeconds : 0,
    );
    const pods = modelPods(out);
    expect(pods.length).toBe(config.models.length);
    for (const p of pods) expect(p.grace, p.name).toBeGreaterThanOrEqual(PRE_STOP_SLEEP_SECONDS + longest);
  });
});
