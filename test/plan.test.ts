import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { STACKS } from "./config-helpers";
import { ROOT, plan } from "./run-cli";
import { sharedPlan } from "./shared-plans";
import { targetsFromStackOutputs } from "../components/contracts/stack-outputs";
import { parseStack } from "./config-helpers";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "rs-plan-"));

function walk(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe("npm run plan", () => {
  // The run's one render of each stack, shared with alerts-stacks and policy-stacks (test/shared-plans.ts).
  const results = Object.fromEntries(STACKS.map((s) => [s, sharedPlan(s)]));

  it.each(STACKS)("renders stack %s: manifests, resources.json and plan.md, summary on stdout", async (stack) => {
    const { out, result: r } = await results[stack]!;
    expect(r.stderr + r.stdout).not.toMatch(/plan failed/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`# Plan: stack \`${stack}\``);
    expect(r.stdout).toContain("## Models");
    const planMd = fs.readFileSync(path.join(out, "plan.md"), "utf8");
    expect(r.stdout).toContain(planMd.trim().split("\n")[0]!);

    const manifests = walk(path.join(out, "manifests")).filter((f) => !f.includes(`${path.sep}helm${path.sep}`));
    expect(manifests.length).toBeGreaterThan(0);
    for (const f of manifests) {
      const obj = YAML.parse(fs.readFileSync(f, "utf8"));
      expect(obj.apiVersion, f).toBeTruthy();
      expect(obj.kind, f).toBeTruthy();
      expect(obj.metadata?.name, f).toBeTruthy();
    }
    const resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8")) as {
      type: string;
      name: string;
      inputs: unknown;
    }[];
    expect(resources.length).toBeGreaterThan(manifests.length);
    for (const r of resources) expect(r.type).toBeTruthy();
  });

  it("never writes a secret: every offline placeholder is redacted", async () => {
    for (const stack of STACKS) {
      const { out, result } = await results[stack]!;
      expect(result.code).toBe(0);
      for (const f of walk(out)) expect(fs.readFileSync(f, "utf8"), f).not.toMatch(/offline-placeholder/);
    }
  });

  it("every Helm release is pinned to an exact version and atomic (a failed install or upgrade rolls back)", async () => {
    for (const stack of STACKS) {
      const { out, result } = await results[stack]!;
      expect(result.code).toBe(0);
      const releases = (
        JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8")) as {
          type: string;
          name: string;
          inputs: Record<string, unknown>;
        }[]
      ).filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
      expect(releases.length, stack).toBeGreaterThan(0);
      for (const r of releases) {
        expect(r.inputs.version, `${stack} ${r.name}`).toMatch(/^v?\d+\.\d+\.\d+(-[\w.]+)?$/);
        expect(r.inputs.atomic, `${stack} ${r.name}`).toBe(true);
      }
    }
  });

  it("the local stack creates no AWS resources", async () => {
    const { out, result } = await results.local!;
    expect(result.code).toBe(0);
    const resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8")) as { type: string }[];
    expect(resources.filter((r) => /^(aws|awsx|eks):/.test(r.type))).toEqual([]);
  });

  it("an invalid stack file exits non-zero, names each bad field and writes nothing", async () => {
    const dir = tmp();
    const file = path.join(dir, "Pulumi.broken.yaml");
    const doc = YAML.parse(fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.local.yaml"), "utf8"));
    doc.config["retrieval-stack:models"][0].engine = "triton";
    doc.config["retrieval-stack:models"][1].replicas = { min: 3, max: 1 };
    doc.config["retrieval-stack:observability"].retention = "two days";
    fs.writeFileSync(file, YAML.stringify(doc));
    const out = path.join(dir, "out");
    const r = await plan(["--config-file", file, "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("3 problems, nothing was created");
    expect(r.stderr).toContain('retrieval-stack:models[0].engine = "triton"');
    expect(r.stderr).toContain("retrieval-stack:models[1].replicas.min = 3");
    expect(r.stderr).toContain('retrieval-stack:observability.retention = "two days"');
    expect(fs.existsSync(out)).toBe(false);
  });

  it("an unknown stack is a usage error that lists the stacks", async () => {
    const r = await plan(["--stack", "qa"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(
      'plan: no stack "qa" (no stacks/Pulumi.qa.yaml); stacks: dev, local, prod, staging',
    );
  });

  it("writes the stack's would-be outputs, which `verify --stack-outputs` reads offline", async () => {
    for (const stack of STACKS) {
      const { out, result } = await results[stack]!;
      expect(result.code).toBe(0);
      const outputs = JSON.parse(fs.readFileSync(path.join(out, "outputs.json"), "utf8"));
      const config = parseStack(stack);
      // As `pulumi stack output --json` without --show-secrets: secret outputs are "[secret]".
      expect(outputs.verificationApiKey, stack).toBe("[secret]");
      const { targets, options, apiKey } = targetsFromStackOutputs(outputs);
      expect(apiKey).toBeUndefined();
      expect(options.requests).toBe(config.verification.requests);
      // Every model, and with a gateway every model again through it (`<name> via gateway`).
      const names = config.models.map((m) => m.name);
      const expected = config.gateway.enabled ? [...names, ...names.map((n) => `${n} via gateway`)] : names;
      expect(targets.map((t) => t.name).sort()).toEqual(expected.sort());
      const direct = (ts: typeof targets) => ts.filter((t) => t.kind !== "gateway");
      if (config.ingress.enabled)
        for (const t of direct(targets))
          expect(t.route, `${stack} ${t.name}`).toMatch(new RegExp(`^/models/${t.name}/v1/`));
      const inCluster = direct(targetsFromStackOutputs(outputs, true).targets);
      for (const t of inCluster) expect(t.url).toBe(`http://${t.name}.retrieval.svc.cluster.local`);
    }
  });

  it("resources.json records resource options and shows references to other resources as URNs", async () => {
    const { out } = await results.prod!;
    const resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8")) as {
      type: string;
      name: string;
      urn: string;
      options: Record<string, unknown>;
      inputs: Record<string, unknown>;
    }[];
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const groups = resources.filter((r) => r.type === "eks:index:ManagedNodeGroup");
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) {
      expect(typeof g.inputs.cluster, g.name).toBe("string");
      expect(byUrn.get(g.inputs.cluster as string)?.type, g.name).toBe("eks:index:Cluster");
    }
    expect(fs.readFileSync(path.join(out, "resources.json"), "utf8")).not.toContain("[Calling ]");
    const job = resources.find((r) => r.type === "kubernetes:batch/v1:Job")!;
    expect(job.options.customTimeouts).toMatchObject({ create: expect.stringMatching(/^\d+s$/) });
    // Explicit dependsOn: the Job waits for the models (index.ts), which are not among its inputs.
    expect(
      (job.options.dependsOn as string[]).some((u) => byUrn.get(u)?.type === "kubernetes:apps/v1:Deployment"),
    ).toBe(true);
    for (const r of resources) expect(r.options, r.urn).toBeTypeOf("object");
  });

  it("plan.md: the cost headline counts the nodes the models' minimum replicas keep", async () => {
    const md = fs.readFileSync(path.join((await results.prod!).out, "plan.md"), "utf8");
    // prod: l4 minSize 3 but bge-large-zh (3) + gte-base (2) need 5 GPUs at minimum; l40s 3 for qwen3-reranker (3).
    expect(md).toContain("**GPUs: 8 at minimum scale, 15 at maximum");
    const total = /Total compute estimate: \$([\d,]+) per month at minimum scale/.exec(md)!;
    const noteUsd = /the autoscaler keeps 5 node\(s\), about \$([\d,]+)\/month/.exec(md)!;
    const n = (s: string) => Number(s.replace(/,/g, ""));
    // g6.2xlarge at 5 nodes + g6e.2xlarge at 3 nodes + control plane + 3 system nodes: more than the old sum of minSizes.
    expect(n(total[1]!)).toBeGreaterThan(n(noteUsd[1]!) + 4_900);
  });

  it("plan.md: per model GPU memory fit, cost, and a time-slicing hint for a small model on a whole GPU", async () => {
    const md = fs.readFileSync(path.join((await results.prod!).out, "plan.md"), "utf8");
    const section = md.slice(md.indexOf("## GPU fit and cost per model"));
    expect(section).toMatch(
      /\| `qwen3-reranker` \| 1 x L40S 48 GiB \(`l40s`\) \| [\d.]+ \+ [\d.]+ KV @ 32768 tokens = [\d.]+ GiB \| 43\.2 GiB \(x 0\.9\) \| `█+░*` \d+% \| \$[\d,]+–\$[\d,]+ \| \d+% \|/,
    );
    expect(section).toMatch(
      /- `gte-base` needs \d+% of the L4's 24 GiB it takes whole; time-slicing \(`gpuNodeGroups\.l4\.sharing\.timeSlicingReplicas`\)/,
    );
    expect(section).not.toMatch(/- `qwen3-reranker` needs/);
  });

  it("plan.md shows the models namespace by its name and counts the alert kinds it renders", async () => {
    for (const stack of STACKS) {
      const md = fs.readFileSync(path.join((await results[stack]!).out, "plan.md"), "utf8");
      expect(md).toContain("kubernetes:core/v1:Namespace `retrieval` (resource `models`)");
      const kinds = /(\d+) alert rules of (\d+) kinds rendered/.exec(md);
      if (!kinds) continue; // observability disabled
      const table = md.slice(md.indexOf("| alert | severity |")).split("\n\n")[0]!;
      const names = new Set([...table.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]));
      expect(Number(kinds[2]), stack).toBe(names.size);
      expect(Number(kinds[1]), stack).toBe(table.split("\n").length - 2);
    }
  });

  it("a prod stack without alert receivers plans, with a visible warning in plan.md and on stderr", async () => {
    const dir = tmp();
    const file = path.join(dir, "Pulumi.prod.yaml");
    const doc = YAML.parse(fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.prod.yaml"), "utf8"));
    doc.config["retrieval-stack:observability"].receivers = [];
    fs.writeFileSync(file, YAML.stringify(doc));
    const r = await plan(["--config-file", file, "--out", path.join(dir, "out"), "--quiet"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: prod stack without alert receivers: .* Fix: add observability\.receivers/m);
    const md = fs.readFileSync(path.join(dir, "out", "plan.md"), "utf8");
    expect(md.slice(0, md.indexOf("\n## "))).toContain("> **Warning:** prod stack without alert receivers");
    // The stack files we ship have receivers for prod: no warning there.
    expect(fs.readFileSync(path.join((await results.prod!).out, "plan.md"), "utf8")).not.toContain("**Warning:**");
  });

  it("--config-file names the output and title after the file; a failed plan removes the stale plan there", async () => {
    const dir = tmp();
    const file = path.join(dir, "Pulumi.team-a.yaml");
    fs.copyFileSync(path.join(ROOT, "stacks", "Pulumi.local.yaml"), file);
    const out = path.join(dir, "out");
    const ok = await plan(["--config-file", file, "--out", out, "--quiet"]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(fs.readFileSync(path.join(out, "plan.md"), "utf8")).toMatch(/^# Plan: stack `team-a`/);
    fs.writeFileSync(path.join(out, "notes.txt"), "mine");

    const doc = YAML.parse(fs.readFileSync(file, "utf8"));
    doc.config["retrieval-stack:models"][0].engine = "triton";
    fs.writeFileSync(file, YAML.stringify(doc));
    const failed = await plan(["--config-file", file, "--out", out, "--quiet"]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('plan failed for stack "team-a"');
    for (const f of ["plan.md", "resources.json", "outputs.json", "manifests"])
      expect(fs.existsSync(path.join(out, f)), f).toBe(false);
    expect(fs.readFileSync(path.join(out, "notes.txt"), "utf8")).toBe("mine"); // only the plan's own files go
  });
});
