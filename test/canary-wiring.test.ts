/**
 * How the program wires the quality canary: its own key at the gateway (derived, never a customer's), the config
 * rule for a gateway closed without a key to derive from, and what every stack renders.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { CanarySchema, GatewaySchema } from "../components/config";
import { Gateway } from "../components/gateway";
import { canaryApiKey } from "../components/observability/canary-key";
import { QualityCanary } from "../components/observability/quality-canary";
import { parseStack, problemsOf } from "./config-helpers";
import { renderResources } from "./harness";
import { parseModel, SHIPPED_MODELS } from "./fixtures/serving";
import { sharedPlan } from "./shared-plans";

const SIG_KEY = "4dabf18193072939515e22adb298388d";
/** A rendered input with Pulumi's secret wrappers taken off (the test reads what the cluster would get). */
function unwrap(v: unknown): any {
  if (Array.isArray(v)) return v.map(unwrap);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[SIG_KEY] !== undefined && "value" in o) return unwrap(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrap(x)]));
  }
  return v;
}
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const CUSTOMER_KEY = "customer-key-0123456789abcdef";
const model = parseModel({ ...SHIPPED_MODELS.bgeSmallZhCpu, name: "bge" });

describe("the canary's key at the gateway", () => {
  const render = (secrets: { apiKeys?: string[]; canaryApiKey?: string }, gateway = GatewaySchema.parse({})) =>
    renderResources(() => {
      const provider = new k8s.Provider("k8s", { kubeconfig: "offline" });
      const apiKeys = secrets.apiKeys ? pulumi.secret(secrets.apiKeys) : undefined;
      const key = canaryApiKey(
        {
          apiKeys,
          canaryApiKey: secrets.canaryApiKey ? pulumi.secret(secrets.canaryApiKey) : undefined,
        },
        gateway,
        "dev",
      )!;
      new Gateway("gateway", {
        provider,
        environment: "local",
        gateway: { ...gateway, image: "retrieval-gateway:test" },
        models: [model],
        apiKeys,
        namedKeys: [{ name: "canary", key }],
        monitoring: true,
      });
      new QualityCanary("quality-canary", {
        provider,
        canary: CanarySchema.parse({}),
        image: "retrieval-verifier:test",
        targets: [{ model, url: "http://bge.retrieval.svc:8000" }],
        gateway: { url: "http://retrieval-gateway.retrieval.svc.cluster.local" },
        apiKey: key,
      });
    });
  const keysOf = async (secrets: Parameters<typeof render>[0], gateway?: ReturnType<typeof GatewaySchema.parse>) => {
    const r = await render(secrets, gateway);
    const hashes = JSON.parse(
      unwrap(r.get("kubernetes:core/v1:Secret", "gateway-keys").inputs).stringData["keys.json"],
    ) as { name: string; sha256: string[] }[];
    const canary = unwrap(r.get("kubernetes:core/v1:Secret", "quality-canary-api-key").inputs).stringData
      .apiKey as string;
    const redacted = r.inputs("kubernetes:core/v1:Secret", "quality-canary-api-key").stringData.apiKey;
    return { hashes, canary, redacted };
  };

  it("is derived from the first API key: the gateway knows its hash as `canary`, it is not the customer's key, and it stays secret", async () => {
    const { hashes, canary, redacted } = await keysOf({ apiKeys: [CUSTOMER_KEY] });
    expect(canary).toMatch(/^[0-9a-f]{64}$/);
    expect(canary).not.toBe(CUSTOMER_KEY);
    expect(hashes).toEqual([
      { name: "api-key-1", sha256: [sha(CUSTOMER_KEY)] },
      { name: "canary", sha256: [sha(canary)] },
    ]);
    expect(redacted).toBe("[secret]");
    // Stable across runs (no rolling of the pods on every `pulumi up`), new when the first key is rotated.
    expect((await keysOf({ apiKeys: [CUSTOMER_KEY] })).canary).toBe(canary);
    expect((await keysOf({ apiKeys: ["rotated-key-0123456789abcdef"] })).canary).not.toBe(canary);
  });

  it("is secrets.canaryApiKey when set", async () => {
    const { hashes, canary } = await keysOf({ apiKeys: [CUSTOMER_KEY], canaryApiKey: "my-canary-key-0123456789" });
    expect(canary).toBe("my-canary-key-0123456789");
    expect(hashes.find((h) => h.name === "canary")!.sha256).toEqual([sha("my-canary-key-0123456789")]);
  });

  it("names the canary's calls on a gateway open to anonymous callers, without closing it", async () => {
    const r = await render({});
    const config = JSON.parse(
      r.objects("ConfigMap").find((c) => c.metadata.name === "retrieval-gateway")!.data["config.json"],
    );
    expect(config.allowAnonymous).toBe(true);
    const hashes = JSON.parse(
      unwrap(r.get("kubernetes:core/v1:Secret", "gateway-keys").inputs).stringData["keys.json"],
    );
    expect(hashes.map((h: { name: string }) => h.name)).toEqual(["canary"]);
  });

  it("cannot be made for a gateway closed by gateway.keys or JWT alone", () => {
    const closed = GatewaySchema.parse({ keys: { "team-a": { sha256: [sha(CUSTOMER_KEY)] } } });
    expect(canaryApiKey({ apiKeys: undefined, canaryApiKey: undefined }, closed, "dev")).toBeUndefined();
  });
});

describe("the config refuses a canary the gateway would refuse", () => {
  const closeGateway = (raw: any) => {
    raw.gateway = { ...(raw.gateway ?? {}), keys: { "team-a": { sha256: [sha(CUSTOMER_KEY)] } } };
    delete raw.apiKeys;
  };
  it("names observability.canary.enabled and both fixes", () => {
    const problems = problemsOf("local", closeGateway);
    expect(problems.map((p) => p.path)).toEqual(["retrieval-stack:observability.canary.enabled"]);
    expect(problems[0]!.message).toMatch(/neither apiKeys nor canaryApiKey/);
    expect(problems[0]!.message).toMatch(
      /Fix: pulumi config set --secret canaryApiKey "\$\(openssl rand -hex 24\)", or set observability\.canary\.enabled to false/,
    );
  });
  it("accepts it with canaryApiKey, or with the canary off", () => {
    expect(() =>
      parseStack("local", (raw, secretKeys) => {
        closeGateway(raw);
        raw.canaryApiKey = "my-canary-key-0123456789";
        secretKeys.add("canaryApiKey");
      }),
    ).not.toThrow();
    expect(() =>
      parseStack("local", (raw) => {
        closeGateway(raw);
        raw.observability = { ...(raw.observability ?? {}), canary: { enabled: false } };
      }),
    ).not.toThrow();
  });
});

describe("every stack deploys the canary after the models, from the verifier image", () => {
  for (const stack of ["local", "dev", "staging", "prod"])
    it(
      stack,
      async () => {
        const { out, result } = await sharedPlan(stack);
        expect(result.code, result.stderr).toBe(0);
        const resources = JSON.parse(
          (await import("node:fs")).readFileSync((await import("node:path")).join(out, "resources.json"), "utf8"),
        ) as { type: string; name: string; inputs?: any; dependencies?: string[] }[];
        const deployment = resources.find(
          (r) => r.type === "kubernetes:apps/v1:Deployment" && r.inputs?.metadata?.name === "quality-canary",
        );
        expect(deployment, "quality-canary Deployment").toBeDefined();
        const image = deployment!.inputs.spec.template.spec.containers[0].image as string;
        expect(image).toMatch(/retrieval-verifier|verifier-image/);
        // Its ConfigMap calls every model through the gateway, as clients do.
        const cm = resources.find(
          (r) => r.type === "kubernetes:core/v1:ConfigMap" && r.inputs?.metadata?.name === "quality-canary-config",
        )!;
        const targets = JSON.parse(cm.inputs.data["canary.json"]).targets as { kind: string; url: string }[];
        expect(new Set(targets.map((t) => t.kind))).toEqual(new Set(["gateway"]));
        // The gateway's own namespace (gateway.namespace), where the canary runs too.
        expect(new Set(targets.map((t) => t.url))).toEqual(
          new Set(["http://retrieval-gateway.retrieval-gateway.svc.cluster.local"]),
        );
        expect(deployment!.inputs.metadata.namespace).toBe("retrieval-gateway");
      },
      60_000,
    );
});
