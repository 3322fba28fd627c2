import { describe, expect, it } from "vitest";
import { ingressSummary } from "../plan/summary-ingress";
import type { SummaryContext } from "../plan/summary";
import { parseStack } from "./config-helpers";

const ctx = (stack: string): SummaryContext => ({
  stack,
  config: parseStack(stack),
  plan: { objects: [], helmReleases: [], resources: [] },
  placeholders: ["apiKeys"],
});

describe("plan.md public endpoints", () => {
  it("lists the public URL, engine path and limit of every prod model, with a curl call carrying the API key", () => {
    const md = ingressSummary(ctx("prod"))!;
    const config = parseStack("prod");
    for (const m of config.models) {
      const url = `https://retrieval.example.com/models/${m.name}/v1/${m.task === "embed" ? "embeddings" : "rerank"}`;
      expect(md).toContain(`| \`${m.name}\` | ${url} |`);
      expect(md).toMatch(
        new RegExp(`curl -sS ${url.replace(/[.]/g, "\\.")} -H "Authorization: Bearer \\$RETRIEVAL_API_KEY"`),
      );
    }
    expect(md).toContain(
      "| `qwen3-reranker` | https://retrieval.example.com/models/qwen3-reranker/v1/rerank | `/v1/rerank` | 20r/s + burst 40 |",
    );
    expect(md).toMatch(/AWS NLB, internet-facing, sources any/);
    expect(md).toMatch(/TLS: acme, HTTP redirects to HTTPS/);
  });

  it("tells local users how to reach the NodePort through a port-forward, over plain HTTP", () => {
    const md = ingressSummary(ctx("local"))!;
    expect(md).toContain("kubectl -n ingress port-forward svc/nginx-ingress-controller 8080:80");
    expect(md).toContain("http://localhost:8080/models/bge-small-zh/v1/embeddings");
  });

  it("each sample body is valid JSON built by the engine's dialect", () => {
    const md = ingressSummary(ctx("prod"))!;
    const bodies = [...md.matchAll(/-d '([^']*)'/g)].map((m) => JSON.parse(m[1]!));
    expect(bodies).toHaveLength(parseStack("prod").models.length);
    for (const b of bodies) expect(typeof b).toBe("object");
  });
});
