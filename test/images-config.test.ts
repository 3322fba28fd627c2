// Where the stack's own images come from (config `images`: ecr | registry | prebuilt | local), and plan.md saying
// exactly what `pulumi up` creates, builds and needs. The README's own example (an existing cluster in dev) used to
// create two ECR repositories and build two images while plan.md said "no AWS resources are created".
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { errorOf, problemsOf } from "./config-helpers";
import { plan } from "./run-cli";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const GATEWAY_REF = "ghcr.io/acme/retrieval-gateway:1.4.0";
const VERIFIER_REF = "ghcr.io/acme/retrieval-verifier@sha256:" + "a".repeat(64);

/** The README's "Your own stack in ten lines", plus an `images` section when given. */
function readmeStack(images?: unknown): Record<string, unknown> {
  const config: Record<string, unknown> = {
    "retrieval-stack:environment": "dev",
    "retrieval-stack:cluster": { mode: "existing", name: "search", context: "my-cluster" },
    "retrieval-stack:gpuNodeGroups": { l4: { instanceTypes: ["g6.xlarge"], minSize: 1, maxSize: 3 } },
    "retrieval-stack:ingress": { host: "search.example.com", tls: { mode: "secret", secretName: "search-tls" } },
    "retrieval-stack:models": [
      {
        name: "bge-large-zh",
        model: "BAAI/bge-large-zh-v1.5",
        engine: "vllm",
        task: "embed",
        gpu: { nodeGroup: "l4" },
        replicas: { min: 1, max: 2 },
        slo: { p99LatencyMs: 300 },
      },
    ],
  };
  if (images) config["retrieval-stack:images"] = images;
  return { config };
}

interface Planned {
  readonly md: string;
  readonly resources: { type: string; name: string; inputs: Record<string, unknown> }[];
  readonly stderr: string;
}

async function planOf(doc: Record<string, unknown>): Promise<Planned> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-images-"));
  dirs.push(dir);
  const file = path.join(dir, "Pulumi.search.yaml");
  fs.writeFileSync(file, YAML.stringify(doc));
  const out = path.join(dir, "out");
  const r = await plan(["--config-file", file, "--out", out, "--quiet"]);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return {
    md: fs.readFileSync(path.join(out, "plan.md"), "utf8"),
    resources: JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8")),
    stderr: r.stderr,
  };
}

const section = (md: string) =>
  md.slice(md.indexOf("## What `pulumi up` creates and needs"), md.indexOf("\n## Models"));
const awsTypes = (p: Planned) => p.resources.filter((r) => /^(aws|awsx|eks):/.test(r.type)).map((r) => r.type);
const builds = (p: Planned) => p.resources.filter((r) => r.type === "docker:index/image:Image");

describe("plan.md says what `pulumi up` creates, builds and needs", () => {
  it("an existing cluster in dev (the README example, default ecr): two ECR repositories, two builds, Docker and ECR rights", async () => {
    const p = await planOf(readmeStack());
    expect(awsTypes(p).sort()).toEqual(["aws:ecr/repository:Repository", "aws:ecr/repository:Repository"]);
    const s = section(p.md);
    expect(s).toContain("(images.source: `ecr`)");
    expect(s).toContain("- AWS resources: 2 `aws:ecr/repository:Repository`.");
    expect(s).not.toMatch(/No AWS resources/);
    expect(s).toMatch(/Docker images built \(linux\/amd64\) from this checkout: 2/);
    expect(s).toMatch(/\| `images\/gateway\/Dockerfile` \| pushed to its ECR repository/);
    expect(s).toMatch(/A Docker engine it can reach/);
    expect(s).toMatch(/AWS credentials whose rights include `ecr:CreateRepository`.*`ecr:PutImage`/);
    expect(s).toContain("A kubeconfig context `my-cluster` with cluster-admin rights");
    // Nowhere else in plan.md does it claim the opposite.
    expect(p.md).not.toMatch(/no AWS resources are created/);
  });

  it("prebuilt: nothing in AWS, nothing built, the pods run the configured references", async () => {
    const p = await planOf(readmeStack({ source: "prebuilt", gateway: GATEWAY_REF, verifier: VERIFIER_REF }));
    expect(awsTypes(p)).toEqual([]);
    expect(builds(p)).toEqual([]);
    const s = section(p.md);
    expect(s).toContain("- No AWS resources are created (the cluster `search` exists already).");
    expect(s).toContain("- No image is built");
    expect(s).not.toMatch(/Docker engine/);
    const refs = JSON.stringify(p.resources.filter((r) => r.type.startsWith("kubernetes:apps/v1:Deployment")));
    expect(refs).toContain(GATEWAY_REF);
    expect(refs).toContain(VERIFIER_REF);
  });

  it("an existing registry: built and pushed there with the machine's docker login, nothing in AWS", async () => {
    const p = await planOf(readmeStack({ source: "registry", registry: "ghcr.io/acme" }));
    expect(awsTypes(p)).toEqual([]);
    expect(
      builds(p)
        .map((b) => String(b.inputs.imageName).replace(/:[0-9a-f]{12}$/, ":<tag>"))
        .sort(),
    ).toEqual(["ghcr.io/acme/retrieval-gateway:<tag>", "ghcr.io/acme/retrieval-verifier:<tag>"]);
    // No credentials in the stack: the docker provider falls back to the host's credentials file.
    expect(builds(p).every((b) => b.inputs.registry === undefined)).toBe(true);
    const s = section(p.md);
    expect(s).toContain("`docker login ghcr.io` done beforehand");
    expect(s).toContain("- No AWS resources are created");
  });

  it("local: built into the local Docker engine, with the `kind load` commands for the exact tags", async () => {
    const p = await planOf({
      config: {
        ...(readmeStack().config as Record<string, unknown>),
        "retrieval-stack:environment": "local",
        "retrieval-stack:ingress": { tls: { mode: "none" } },
        "retrieval-stack:gpuNodeGroups": {},
        "retrieval-stack:models": [
          {
            name: "bge-small-zh",
            model: "BAAI/bge-small-zh-v1.5",
            engine: "tei",
            task: "embed",
            replicas: { min: 1, max: 1 },
            slo: { p99LatencyMs: 300 },
          },
        ],
        "retrieval-stack:verification": { mode: "local" },
      },
    });
    const names = builds(p).map((b) => String(b.inputs.imageName));
    expect(names.length).toBeGreaterThan(0);
    expect(builds(p).every((b) => b.inputs.skipPush === true)).toBe(true);
    for (const n of names) expect(section(p.md)).toContain(`kind load docker-image ${n} --name <kind cluster>`);
  });
});

describe("images config errors name the field, the value and the fix", () => {
  it("local in a cloud environment, ecr in the local one, a malformed registry, missing prebuilt references", () => {
    expect(errorOf("prod", (raw) => (raw.images = { source: "local" }))).toMatch(
      /retrieval-stack:images\.source.*"local".*cannot pull from it.*Fix: use "ecr".*"registry" with images\.registry.*"prebuilt"/s,
    );
    expect(errorOf("local", (raw) => (raw.images = { source: "ecr" }))).toMatch(
      /retrieval-stack:images\.source.*"ecr".*the local stack has none.*Fix: use "local"/s,
    );
    expect(errorOf("dev", (raw) => (raw.images = { source: "registry", registry: "https://ghcr.io/acme" }))).toMatch(
      /retrieval-stack:images\.registry.*https:\/\/ghcr\.io\/acme.*is not a registry and path prefix.*Fix: write e\.g\./s,
    );
    expect(errorOf("dev", (raw) => (raw.images = { source: "registry" }))).toMatch(/retrieval-stack:images\.registry/);
    expect(errorOf("dev", (raw) => (raw.images = { source: "prebuilt", gateway: "ghcr.io/acme/gw:latest" }))).toMatch(
      /retrieval-stack:images\.gateway.*must name a fixed tag or digest/s,
    );
    const missing = problemsOf("prod", (raw) => (raw.images = { source: "prebuilt" })).map((p) => p.path);
    expect(missing).toEqual(
      expect.arrayContaining(["retrieval-stack:images.gateway", "retrieval-stack:images.verifier"]),
    );
    expect(errorOf("prod", (raw) => (raw.images = { source: "prebuilt", gateway: GATEWAY_REF }))).toMatch(
      /images\.verifier.*the quality canary and the post-deploy verification Job.*Fix: set images\.verifier/s,
    );
  });
});
