import { describe, expect, it } from "vitest";
import { planRoutes, nginxRate } from "../components/ingress/routes";
import { EVERY_ENGINE, ingressConfig } from "./fixtures/ingress";
import { parseStack, problemsOf } from "./config-helpers";

type Mutate = (raw: any, secretKeys: Set<string>) => void;
const BAD: { name: string; stack: string; mutate: Mutate; path: string; says: (string | RegExp)[] }[] = [
  {
    name: "zero rate limit for one model",
    stack: "prod",
    mutate: (r) => (r.ingress.modelRateLimits["qwen3-reranker"].requestsPerSecond = 0),
    path: "retrieval-stack:ingress.modelRateLimits.qwen3-reranker.requestsPerSecond",
    says: ["greater than 0", "refuse every request"],
  },
  {
    name: "rate slower than NGINX can count",
    stack: "prod",
    mutate: (r) => (r.ingress.rateLimit.requestsPerSecond = 0.001),
    path: "retrieval-stack:ingress.rateLimit.requestsPerSecond",
    says: ["one request per minute"],
  },
  {
    name: "negative burst",
    stack: "prod",
    mutate: (r) => (r.ingress.rateLimit.burst = -1),
    path: "retrieval-stack:ingress.rateLimit.burst",
    says: ["0 or more"],
  },
  {
    name: "private CA without its secret",
    stack: "prod",
    mutate: (r) => (r.ingress.tls = { mode: "privateCa" }),
    path: "retrieval-stack:ingress.tls.caSecretName",
    says: ["is required"],
  },
  {
    name: "own certificate without its secret",
    stack: "prod",
    mutate: (r) => (r.ingress.tls = { mode: "secret" }),
    path: "retrieval-stack:ingress.tls.secretName",
    says: ["is required"],
  },
  {
    name: "unknown TLS mode",
    stack: "prod",
    mutate: (r) => (r.ingress.tls = { mode: "letsencrypt" }),
    path: "retrieval-stack:ingress.tls.mode",
    says: ['"acme"', '"privateCa"'],
  },
  {
    name: "local certificate without a host",
    stack: "local",
    mutate: (r) => (r.ingress.tls = { mode: "privateCa", caSecretName: "corp-ca" }),
    path: "retrieval-stack:ingress.host",
    says: ["certificate", "ingress.host"],
  },
  {
    name: "body size NGINX cannot read",
    stack: "prod",
    mutate: (r) => (r.ingress.maxBodySize = "32MB"),
    path: "retrieval-stack:ingress.maxBodySize",
    says: ['"32m"'],
  },
  {
    name: "two models on one route",
    stack: "prod",
    mutate: (r) => (r.models[1].name = r.models[0].name),
    path: "retrieval-stack:models[1].name",
    says: ["/models/bge-large-zh/v1/embeddings", "models[0]"],
  },
  {
    name: "API key in plain text",
    stack: "prod",
    mutate: (_r, secret) => secret.delete("apiKeys"),
    path: "retrieval-stack:apiKeys",
    says: ["plain text"],
  },
  {
    name: "API key too short to be a secret",
    stack: "prod",
    mutate: (r) => (r.apiKeys = JSON.stringify(["short"])),
    path: "retrieval-stack:apiKeys[0]",
    says: ["16 characters"],
  },
];

describe("bad ingress config fails before anything is created, naming the field and the fix", () => {
  it.each(BAD)("$name", ({ stack, mutate, path, says }) => {
    const problems = problemsOf(stack, mutate);
    const re = (s: string | RegExp) =>
      typeof s === "string" ? new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : s;
    const p = problems.find((x) => x.path === path && says.every((s) => re(s).test(x.message)));
    expect(
      p,
      `no problem at ${path} saying ${says.join(", ")}; got:\n${problems.map((x) => `${x.path}: ${x.message}`).join("\n")}`,
    ).toBeDefined();
  });

  it("every shipped stack routes every model", () => {
    for (const stack of ["local", "dev", "staging", "prod"]) {
      const c = parseStack(stack);
      expect(planRoutes(c.models, c.ingress).problems, stack).toEqual([]);
    }
  });
});

describe("route table", () => {
  it("reports a route collision instead of silently shadowing a model", () => {
    const twin = { ...EVERY_ENGINE[0]! };
    const { routes, problems } = planRoutes([EVERY_ENGINE[0]!, twin], ingressConfig({}));
    expect(routes).toHaveLength(1);
    expect(problems[0]!.path).toEqual(["models", 1, "name"]);
    expect(problems[0]!.message).toMatch(/already uses/);
  });

  it("uses the model's override, else the default limit", () => {
    const { routes } = planRoutes(
      EVERY_ENGINE,
      ingressConfig({
        rateLimit: { requestsPerSecond: 7 },
        modelRateLimits: { "gte-base": { requestsPerSecond: 3, burst: 5 } },
      }),
    );
    expect(routes.find((r) => r.model === "gte-base")!.rateLimit).toEqual({ requestsPerSecond: 3, burst: 5 });
    expect(routes.find((r) => r.model === "bge-large-zh")!.rateLimit).toEqual({ requestsPerSecond: 7, burst: 0 });
  });

  it("writes rates the way limit_req_zone reads them", () => {
    expect(nginxRate(50)).toBe("50r/s");
    expect(nginxRate(0.5)).toBe("30r/m");
    expect(nginxRate(2.5)).toBe("150r/m");
    expect(nginxRate(1 / 60)).toBe("1r/m");
  });
});
