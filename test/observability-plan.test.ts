import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { sharedPlan } from "./shared-plans";

/** The canary and logs section of the stack's plan.md, from this run's shared render. */
async function planMd(stack: string): Promise<string> {
  const { out, result: r } = await sharedPlan(stack);
  expect(r.code, r.stderr).toBe(0);
  const md = fs.readFileSync(path.join(out, "plan.md"), "utf8");
  return md.slice(md.indexOf("## Quality canary and logs"));
}

describe("plan.md lists the quality canary and the log stack", () => {
  it("prod: canary schedule and thresholds per model, logs kept 30 days in S3 with an IRSA role", async () => {
    const md = await planMd("prod");
    expect(md).toMatch(
      /^- Quality canary: \*\*deployed\*\* \(Deployment `quality-canary` in `retrieval-gateway`\); every 300 s ± 30 s: health, embed\/rerank sanity, MRR@10 and NDCG@10/m,
    );
    expect(md).toMatch(/^\| `qwen3-reranker` \| 0\.75 \| 15m \| always checked \|$/m);
    expect(md).toMatch(
      /^- Logs: Loki 7\.3\.0 \(single binary\) and Grafana Alloy 1\.11\.1 on every node.*retention 720 h \(30 days\)$/m,
    );
    expect(md).toMatch(
      /S3 bucket of the stack .*lifecycle expires objects after 30 days\), IRSA role only `monitoring:loki`/,
    );
  }, 60_000);
  it("local: logs off by default", async () => {
    const md = await planMd("local");
    expect(md).toMatch(/^- Logs: _off \(observability\.logs\.enabled; default on in cloud stacks\)_$/m);
  }, 60_000);
});
