// Issue 24, "300 models in one stack": a stack of 300 models renders into objects the API server stores. Every
// ConfigMap's and Secret's data stays under 1 MiB and every object under etcd's 1.5 MiB request limit
// (components/k8s/object-size.ts cites both); what grows with the models is split (alert rules) or bounded by the
// model limit (models.max in components/config/schema.ts). Also: a stack beyond that limit is refused with the reason.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { runPlan } from "../plan/run";
import {
  chunkBySize,
  CONFIGMAP_DATA_LIMIT_BYTES,
  ETCD_REQUEST_LIMIT_BYTES,
  SECRET_DATA_LIMIT_BYTES,
} from "../components/k8s/object-size";
import { MAX_MODELS } from "../components/config";
import { problemsOf, stackFile } from "./config-helpers";

/** The local stack with `n` copies of its first model, the in-cluster verification Job and the gateway. */
function stackOf(n: number): string {
  const doc = YAML.parse(fs.readFileSync(stackFile("local"), "utf8"));
  const first = doc.config["retrieval-stack:models"][0];
  doc.config["retrieval-stack:models"] = Array.from({ length: n }, (_, i) => ({
    ...first,
    name: `${first.name}-${i}`,
  }));
  doc.config["retrieval-stack:verification"] = {
    ...doc.config["retrieval-stack:verification"],
    mode: "job",
    image: "ghcr.io/acme/retrieval-verifier:0.1.0",
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-scale-"));
  const file = path.join(dir, `Pulumi.scale${n}.yaml`);
  fs.writeFileSync(file, YAML.stringify(doc, { aliasDuplicateObjects: false }));
  return file;
}

const bytes = (v: unknown) => Buffer.byteLength(typeof v === "string" ? v : JSON.stringify(v ?? ""));
const dataBytes = (o: Record<string, unknown>) =>
  ["data", "stringData", "binaryData"].reduce(
    (sum, k) => sum + Object.values((o[k] as Record<string, unknown>) ?? {}).reduce<number>((s, v) => s + bytes(v), 0),
    0,
  );

describe("a 300-model stack fits the API server's object limits", () => {
  it("every object under 1.5 MiB, every ConfigMap and Secret under 1 MiB, the alert rules split", async () => {
    const file = stackOf(300);
    const result = await runPlan({ stack: "scale300", configFile: file, outDir: path.join(path.dirname(file), "out") });
    expect(result.errors).toEqual([]);
    const objects = result.plan!.objects;
    const too: string[] = [];
    for (const o of objects) {
      const id = `${o.kind}/${o.metadata?.name}`;
      const size = bytes(o);
      if (size > ETCD_REQUEST_LIMIT_BYTES) too.push(`${id}: ${size} bytes > etcd's ${ETCD_REQUEST_LIMIT_BYTES}`);
      const limit = { ConfigMap: CONFIGMAP_DATA_LIMIT_BYTES, Secret: SECRET_DATA_LIMIT_BYTES }[o.kind];
      const data = dataBytes(o as unknown as Record<string, unknown>);
      if (limit && data > limit) too.push(`${id}: data ${data} bytes > ${limit}`);
    }
    expect(too).toEqual([]);
    // What used to be one 2.9 MB object: several PrometheusRules, together every group of the 300 models.
    const rules = objects.filter((o) => o.kind === "PrometheusRule");
    expect(rules.length).toBeGreaterThan(1);
    const groups = rules.flatMap((r) => (r as unknown as { spec: { groups: { name: string }[] } }).spec.groups);
    expect(new Set(groups.map((g) => g.name)).size).toBe(groups.length);
    expect(groups.filter((g) => g.name.includes("bge-small-zh-299")).length).toBeGreaterThan(0);
    // The verification ConfigMap and the gateway's route table are there, and under the limit (checked above).
    expect(objects.some((o) => o.kind === "ConfigMap" && o.metadata?.name?.startsWith("verify-"))).toBe(true);
    expect(objects.some((o) => o.kind === "ConfigMap" && o.metadata?.name === "retrieval-gateway")).toBe(true);
  }, 600_000);

  it(`refuses more than ${MAX_MODELS} models, with the reason`, () => {
    const problems = problemsOf("local", (r) => {
      const first = r.models[0];
      r.models = Array.from({ length: MAX_MODELS + 1 }, (_, i) => ({ ...first, name: `m-${i}` }));
    });
    const p = problems.find((x) => x.path === "retrieval-stack:models");
    expect(p?.message).toMatch(new RegExp(`more than ${MAX_MODELS} models.*measured.*Fix: split`));
  });
});

describe("chunkBySize", () => {
  it("keeps order, stays under the budget, and gives one chunk when everything fits", () => {
    const items = Array.from({ length: 50 }, (_, i) => "x".repeat(10 + i));
    const chunks = chunkBySize(items, 200, (s) => s.length);
    expect(chunks.flat()).toEqual(items);
    for (const c of chunks) if (c.length > 1) expect(c.reduce((s, x) => s + x.length, 0)).toBeLessThanOrEqual(200);
    expect(chunkBySize(items.slice(0, 3), 10_000, (s) => s.length)).toHaveLength(1);
    expect(chunkBySize([], 10)).toEqual([[]]);
  });
});
