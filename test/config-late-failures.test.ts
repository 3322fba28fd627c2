// Issue 15, "Config that is accepted but fails late or weakens prod": each of these was accepted by the config
// check and failed (or silently weakened the stack) only when a resource was created. Now each is a config error
// that names the YAML path, shows the value and says how to fix it, before any resource exists.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { describeValue } from "../components/config";
import { runPlan } from "../plan/run";
import { noSecretsInPlainConfig } from "../policy/rules/secrets";
import { contextFor } from "../policy/context";
import { problemsOf, stackFile } from "./config-helpers";

interface Case {
  readonly name: string;
  readonly stack: "local" | "dev" | "staging" | "prod";
  readonly mutate: (raw: any) => void;
  readonly path: string;
  /** The value as the message shows it. */
  readonly shows?: string;
  /** What the message must say (the problem and the fix). */
  readonly says: readonly (string | RegExp)[];
}

const CASES: readonly Case[] = [
  {
    name: "aws:region differs from cluster.region",
    stack: "prod",
    mutate: (r) => (r["aws:region"] = "eu-west-1"),
    path: "aws:region",
    says: ["differs from cluster.region (us-east-1)", "Fix: set aws:region and cluster.region to the same region"],
  },
  {
    name: "aws:region missing in an EKS stack",
    stack: "prod",
    mutate: (r) => delete r["aws:region"],
    path: "aws:region",
    says: ["is not set", "Fix: pulumi config set aws:region us-east-1"],
  },
  {
    name: "allowedSourceCidrs with an octet above 255",
    stack: "prod",
    mutate: (r) => (r.ingress.allowedSourceCidrs = ["300.1.2.0/24"]),
    path: "retrieval-stack:ingress.allowedSourceCidrs[0]",
    says: ["octet of 300", "Fix:"],
  },
  {
    name: "vpcCidr with a prefix no VPC takes",
    stack: "prod",
    mutate: (r) => (r.cluster.vpcCidr = "10.0.0.0/8"),
    path: "retrieval-stack:cluster.vpcCidr",
    says: ["/8 prefix", "/16", 'Fix: use e.g. "10.40.0.0/16"'],
  },
  {
    name: "vpcCidr with host bits set",
    stack: "prod",
    mutate: (r) => (r.cluster.vpcCidr = "10.40.3.0/16"),
    path: "retrieval-stack:cluster.vpcCidr",
    says: ["host bits set", 'Fix: write "10.40.0.0/16"'],
  },
  {
    name: "publicAccessCidrs with an octet above 255",
    stack: "prod",
    mutate: (r) => (r.cluster.publicAccessCidrs = ["203.0.113.256/32"]),
    path: "retrieval-stack:cluster.publicAccessCidrs[0]",
    says: ["octet of 256"],
  },
  {
    name: 'maxBodySize "0k" (turns the limit off)',
    stack: "prod",
    mutate: (r) => (r.ingress.maxBodySize = "0k"),
    path: "retrieval-stack:ingress.maxBodySize",
    says: ["turns the body size limit off", 'Fix: set a real limit, e.g. "32m"'],
  },
  {
    name: "runbookBaseUrl with a Go template",
    stack: "prod",
    mutate: (r) => (r.observability.runbookBaseUrl = "https://wiki.example.com/{{ .GroupLabels.team }}/runbooks"),
    path: "retrieval-stack:observability.runbookBaseUrl",
    says: ["{{", "Go templates", "Fix: remove them"],
  },
  {
    name: "runbookBaseUrl with a javascript: scheme",
    stack: "prod",
    mutate: (r) => (r.observability.runbookBaseUrl = "javascript:alert(1)"),
    path: "retrieval-stack:observability.runbookBaseUrl",
    says: ["scheme other than http(s)", "Fix: use an https URL"],
  },
  {
    name: "tls.caSecretName that is not a Kubernetes name",
    stack: "prod",
    mutate: (r) => (r.ingress.tls = { mode: "privateCa", caSecretName: "Corp_Root_CA" }),
    path: "retrieval-stack:ingress.tls.caSecretName",
    says: ["not a Kubernetes object name", 'e.g. "corp-root-ca"'],
  },
  {
    name: "tls.secretName over 253 characters",
    stack: "prod",
    mutate: (r) => (r.ingress.tls = { mode: "secret", secretName: "a".repeat(254) }),
    path: "retrieval-stack:ingress.tls.secretName",
    says: ["254 characters", "at most 253"],
  },
  {
    name: "host label over 63 characters",
    stack: "prod",
    mutate: (r) => (r.ingress.host = `${"a".repeat(64)}.example.com`),
    path: "retrieval-stack:ingress.host",
    says: ["label of 64 characters", "Fix: shorten that label"],
  },
  {
    name: "host over 253 characters",
    stack: "prod",
    mutate: (r) => (r.ingress.host = `${`${"a".repeat(60)}.`.repeat(4)}example.com`),
    path: "retrieval-stack:ingress.host",
    says: ["255 characters", "at most 253"],
  },
  {
    name: "ACME server over http",
    stack: "prod",
    mutate: (r) => (r.ingress.tls.server = "http://acme.internal.example.com/directory"),
    path: "retrieval-stack:ingress.tls.server",
    says: ["not an https URL", "Fix:"],
  },
  {
    name: "GPU node label key that is not a label key",
    stack: "prod",
    mutate: (r) => (r.gpuNodeGroups.l4.labels = { "team name": "search" }),
    path: 'retrieval-stack:gpuNodeGroups.l4.labels["team name"]',
    says: ["not a label name", 'Fix: use a key such as "team"'],
  },
  {
    name: "GPU node label value that is not a label value",
    stack: "prod",
    mutate: (r) => (r.gpuNodeGroups.l4.labels = { team: "search team" }),
    path: "retrieval-stack:gpuNodeGroups.l4.labels.team",
    says: ["not a label value"],
  },
  {
    name: "GPU node label with a reserved prefix",
    stack: "prod",
    mutate: (r) => (r.gpuNodeGroups.l4.labels = { "node.kubernetes.io/role": "gpu" }),
    path: 'retrieval-stack:gpuNodeGroups.l4.labels["node.kubernetes.io/role"]',
    says: ["reserved for Kubernetes", "Fix: use your own prefix"],
  },
  {
    name: "unknown system instance type",
    stack: "prod",
    mutate: (r) => (r.cluster.systemNodeGroup.instanceType = "m7i.xlarg"),
    path: "retrieval-stack:cluster.systemNodeGroup.instanceType",
    says: ["not a system instance type", 'did you mean "m7i.xlarge"'],
  },
  {
    name: "system diskSizeGiB without an upper bound",
    stack: "prod",
    mutate: (r) => (r.cluster.systemNodeGroup.diskSizeGiB = 1e9),
    path: "retrieval-stack:cluster.systemNodeGroup.diskSizeGiB",
    says: ["16384 GiB"],
  },
  {
    name: "observability.storageGiB without an upper bound",
    stack: "prod",
    mutate: (r) => (r.observability.storageGiB = 1e9),
    path: "retrieval-stack:observability.storageGiB",
    says: ["16384 GiB"],
  },
  {
    name: "GPU node group maxSize of 1e12",
    stack: "prod",
    mutate: (r) => (r.gpuNodeGroups.l4.maxSize = 1e12),
    path: "retrieval-stack:gpuNodeGroups.l4.maxSize",
    shows: "1000000000000",
    says: ["above 1000 nodes", "Fix: use a realistic node count"],
  },
  {
    name: "extraArgs repeating --port (the adapter owns it)",
    stack: "prod",
    mutate: (r) => (r.models[0].extraArgs = ["--port", "9000"]),
    path: "retrieval-stack:models[0].extraArgs[0]",
    says: ["repeats --port", "sglang adapter sets itself", "Fix: remove it from extraArgs"],
  },
  {
    name: "extraArgs repeating --host=... (vLLM)",
    stack: "prod",
    mutate: (r) => (r.models[2].extraArgs = ["--enforce-eager", "--host=127.0.0.1"]),
    path: "retrieval-stack:models[2].extraArgs[1]",
    says: ["repeats --host", "vllm adapter"],
  },
  {
    name: "extraArgs with a control character",
    stack: "prod",
    mutate: (r) => (r.models[0].extraArgs = ["--log-level info\n--port 1"]),
    path: "retrieval-stack:models[0].extraArgs[0]",
    says: ["control character", "Fix: write each flag and value as its own list item"],
  },
  {
    name: "image reference with two tags",
    stack: "prod",
    mutate: (r) => (r.verification.image = "ghcr.io/acme/verifier:0.1.0:0.2.0"),
    path: "retrieval-stack:verification.image",
    says: ["two tags"],
  },
  {
    name: "image reference in upper case",
    stack: "prod",
    mutate: (r) => (r.verification.image = "ghcr.io/Acme/Verifier:0.1.0"),
    path: "retrieval-stack:verification.image",
    says: ["upper case", "lowercase"],
  },
  {
    name: "image tag over 128 characters",
    stack: "prod",
    mutate: (r) => (r.models[0].engineVersion = `v${"1".repeat(128)}`),
    path: "retrieval-stack:models[0].engineVersion",
    says: ["at most 128"],
  },
  {
    name: "a working-hours cron that can never fire",
    stack: "dev",
    mutate: (r) => (r.models[0].autoscaling.activeHours.start = "0 8 31 2 *"),
    path: "retrieval-stack:models[0].autoscaling.activeHours.start",
    says: ["can never fire", "day 31 does not exist in month 2"],
  },
  {
    name: "replicas.max beyond int32 (was a ScaledObject error)",
    stack: "prod",
    mutate: (r) => (r.models[0].replicas.max = 3_000_000_000),
    path: "retrieval-stack:models[0].replicas.max",
    says: ["beyond 2147483647"],
  },
  {
    name: ".inf is shown as .inf, not null",
    stack: "prod",
    mutate: (r) => (r.models[0].replicas.max = Infinity),
    path: "retrieval-stack:models[0].replicas.max",
    shows: ".inf",
    says: ["not a finite number"],
  },
  {
    name: ".nan is shown as .nan, not null",
    stack: "prod",
    mutate: (r) => (r.verification.concurrency = NaN),
    path: "retrieval-stack:verification.concurrency",
    shows: ".nan",
    says: ["not a finite number"],
  },
  {
    name: "a misspelt namespace",
    stack: "prod",
    mutate: (r) => (r["retreival-stack:verification"] = { mode: "off" }),
    path: "retreival-stack:verification",
    says: ['namespace "retreival-stack" is not this project\'s', "Fix: rename it to retrieval-stack:verification"],
  },
];

describe("config that used to fail late is refused up front, with path, value and fix", () => {
  it.each(CASES)("$name", ({ stack, mutate, path: at, shows, says }) => {
    const problems = problemsOf(stack, mutate);
    const p = problems.find((x) => x.path === at);
    expect(p, `no problem at ${at}; got:\n${problems.map((x) => `${x.path}: ${x.message}`).join("\n")}`).toBeDefined();
    expect(p!.message).toMatch(/\. Fix: .+\.$/);
    for (const s of says) expect(p!.message).toMatch(typeof s === "string" ? new RegExp(escape(s)) : s);
    if (shows) expect(describeValue(p!.value)).toBe(shows);
  });

  it("still accepts what is valid: /32 hosts, 0.0.0.0/0, a lowercase registry with port, a digest", () => {
    expect(() =>
      problemsOf("prod", (r) => {
        r.cluster.endpointPublicAccess = true;
        r.cluster.publicAccessCidrs = ["203.0.113.7/32", "0.0.0.0/0"];
        r.verification.image = `registry.example.com:5000/acme/verifier@sha256:${"a".repeat(64)}`;
        r.gpuNodeGroups.l4.labels = { "example.com/team": "search", tier: "" };
      }),
    ).toThrow("expected the config to be rejected, but it parsed");
  });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A stack file written to a temp dir from a stacks/ file, changed by `edit` (the YAML document as parsed). */
function tempStack(stack: string, edit: (config: Record<string, any>) => void): string {
  const doc = YAML.parse(fs.readFileSync(stackFile(stack), "utf8"));
  edit(doc.config);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-config-"));
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  fs.writeFileSync(file, YAML.stringify(doc));
  return file;
}

describe("errors that leaked JavaScript internals or named a rendered object name the config path", () => {
  const planOf = (stack: string, edit: (config: Record<string, any>) => void) =>
    runPlan({ stack, configFile: tempStack(stack, edit), outDir: fs.mkdtempSync(path.join(os.tmpdir(), "rs-out-")) });

  it("observability.receivers as a map (was: receivers.map is not a function)", async () => {
    const r = await planOf("prod", (c) => (c["retrieval-stack:observability"].receivers = { wecom: {} }));
    const text = r.errors.join("\n");
    expect(text).not.toMatch(/is not a function/);
    expect(text).toContain("retrieval-stack:observability.receivers = {");
    expect(text).toContain("must be a list");
  });

  it("an empty observability section (was: Cannot read properties of null)", async () => {
    const r = await planOf("prod", (c) => (c["retrieval-stack:observability"] = null));
    const text = r.errors.join("\n");
    expect(text).not.toMatch(/Cannot read properties/);
    expect(text).toContain("retrieval-stack:observability = null");
    expect(text).toContain("Fix: remove the key to take the defaults");
  });

  it("replicas.max beyond int32 (was: ScaledObject ... must match format int32)", async () => {
    const r = await planOf("prod", (c) => (c["retrieval-stack:models"][0].replicas.max = 3_000_000_000));
    const text = r.errors.join("\n");
    expect(text).not.toMatch(/ScaledObject/);
    expect(text).toMatch(
      /retrieval-stack:models\[0\]\.replicas\.max = 3000000000 \(model "bge-large-zh", .*:\d+:\d+\)/,
    );
  });

  it("a section key without the namespace is an error suggesting the right key (was: silently ignored)", async () => {
    const r = await planOf("prod", (c) => {
      c.verification = c["retrieval-stack:verification"];
      delete c["retrieval-stack:verification"];
    });
    expect(r.ok).toBe(false);
    expect(r.errors.join("\n")).toContain(
      "has no namespace, and this program reads only retrieval-stack:* keys. Fix: rename it to retrieval-stack:verification.",
    );
  });
});

describe("a model named like a Secret does not trip the secrets policy", () => {
  it("the dashboard ConfigMap of model retrieval-api-keys passes; a file named api-keys.conf still fails", () => {
    const cm = (key: string) => ({
      type: "kubernetes:core/v1:ConfigMap",
      name: "dash",
      props: { kind: "ConfigMap", metadata: { name: "dash" }, data: { [key]: "{}" } },
    });
    const prod = contextFor("prod");
    expect(noSecretsInPlainConfig.validate(cm("rs-model-retrieval-api-keys.json"), prod)).toEqual([]);
    expect(noSecretsInPlainConfig.validate(cm("api-keys.conf"), prod)).toHaveLength(1);
    expect(noSecretsInPlainConfig.validate(cm("API_KEY"), prod)).toHaveLength(1);
  });

  it("the prod plan with a model named retrieval-api-keys passes the policy pack", async () => {
    const file = tempStack("prod", (c) => {
      c["retrieval-stack:models"][1].name = "retrieval-api-keys";
    });
    const r = await runPlan({
      stack: "prod",
      configFile: file,
      outDir: fs.mkdtempSync(path.join(os.tmpdir(), "rs-out-")),
    });
    expect(r.errors).toEqual([]);
    expect(r.ok).toBe(true);
  }, 120_000);
});
