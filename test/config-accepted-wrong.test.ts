// Issue 24, "A stack file that cannot lie": values the config check accepted that then meant something else, failed
// at `pulumi up` or quietly switched a safeguard off. One case per class (each was accepted before this change);
// every refusal names the YAML path, shows the value (cut, control characters escaped) and says how to fix it.
import { describe, expect, it } from "vitest";
import { describeValue, formatProblems } from "../components/config";
import { planWarnings } from "../plan/warnings";
import { parseStack, problemsOf } from "./config-helpers";

interface Case {
  readonly name: string;
  readonly stack: "local" | "dev" | "staging" | "prod";
  readonly mutate: (raw: any) => void;
  readonly path: string;
  /** What the message must say (the problem and the fix). */
  readonly says: readonly (string | RegExp)[];
}

const HASH = "a".repeat(64);
const cpuModel = (i: number) => ({
  name: `bge-small-${i}`,
  model: "BAAI/bge-small-zh-v1.5",
  engine: "tei",
  task: "embed",
  replicas: { min: 2, max: 2 },
  resources: { cpu: "2", memory: "2Gi" },
  slo: { p99LatencyMs: 500 },
});

const CASES: readonly Case[] = [
  // 1. Alert thresholds no alert can reach.
  {
    name: "a latency SLO no request reaches",
    stack: "prod",
    mutate: (r) => (r.models[0].slo.p99LatencyMs = 1e12),
    path: "retrieval-stack:models[0].slo.p99LatencyMs",
    says: ["is above 3600000 ms", "could never fire", "Fix: use a value from 1 ms to 3600000 ms"],
  },
  {
    name: "a restart count the back-off never allows",
    stack: "prod",
    mutate: (r) => (r.observability.alerts = { podRestarts: { value: 1e12 } }),
    path: "retrieval-stack:observability.alerts.podRestarts.value",
    says: ["is above 10", "back-off", "Fix: use a value from 1 to 10"],
  },
  {
    name: "an alert `for` that never ends",
    stack: "prod",
    mutate: (r) => (r.observability.alerts = { modelDownFor: "9999d" }),
    path: "retrieval-stack:observability.alerts.modelDownFor",
    says: ["is longer than 1d", "never fire", "Fix: use 0s to 1d"],
  },
  // 2. Availability zones checked only by prefix.
  {
    name: "a zone that only starts with the region",
    stack: "prod",
    mutate: (r) => (r.cluster.availabilityZones = ["us-east-1a", "us-east-1b", "us-east-1-evil"]),
    path: "retrieval-stack:cluster.availabilityZones[2]",
    says: ["not an AWS availability zone name", 'Fix: write the region and a zone letter, e.g. "us-east-1a"'],
  },
  {
    name: "a zone letter no region has",
    stack: "prod",
    mutate: (r) => (r.cluster.availabilityZones = ["us-east-1a", "us-east-1b", "us-east-1z"]),
    path: "retrieval-stack:cluster.availabilityZones[2]",
    says: ["past f", 'Fix: use e.g. "us-east-1a"'],
  },
  {
    name: "a zone with a control character",
    stack: "prod",
    mutate: (r) => (r.cluster.availabilityZones = ["us-east-1a", "us-east-1b", "us-east-1c\u0007"]),
    path: "retrieval-stack:cluster.availabilityZones[2]",
    says: ["not an AWS availability zone name"],
  },
  // 3. Zero or absurd resources.
  {
    name: "cpu 0",
    stack: "local",
    mutate: (r) => (r.models[0].resources.cpu = "0"),
    path: "retrieval-stack:models[0].resources.cpu",
    says: ["is 0", 'Fix: ask for what the engine needs, e.g. "500m" or "2"'],
  },
  {
    name: "cpu below 1m",
    stack: "local",
    mutate: (r) => (r.models[0].resources.cpu = "0.0001"),
    path: "retrieval-stack:models[0].resources.cpu",
    says: ["below 1m", "Fix:"],
  },
  {
    name: "memory 0Mi (a zero limit is no limit)",
    stack: "local",
    mutate: (r) => (r.models[0].resources.memory = "0Mi"),
    path: "retrieval-stack:models[0].resources.memory",
    says: ["zero memory limit is no limit", "Fix:"],
  },
  {
    name: "a memory request no node of the model's group holds",
    stack: "prod",
    mutate: (r) => (r.models[0].resources = { cpu: "2", memory: "4000Gi" }),
    path: "retrieval-stack:models[0].resources.memory",
    says: ["more memory than one g6.2xlarge", "never be scheduled", "Fix:"],
  },
  {
    name: "CPU-served models beyond the system node group",
    stack: "prod",
    mutate: (r) => r.models.push(...Array.from({ length: 300 }, (_, i) => cpuModel(i))),
    path: "retrieval-stack:cluster.systemNodeGroup.maxSize",
    says: ["gives at most 24 vCPU", "300 CPU-served models need 1200 vCPU", "Fix: raise maxSize"],
  },
  // 4. A system node group that can scale to nothing.
  {
    name: "systemNodeGroup.minSize 0",
    stack: "prod",
    mutate: (r) => (r.cluster.systemNodeGroup.minSize = 0),
    path: "retrieval-stack:cluster.systemNodeGroup.minSize",
    says: ["CoreDNS", "autoscaler", "Fix: set at least 1"],
  },
  // 5. URLs: control characters, schemes, the metadata address.
  {
    name: "runbookBaseUrl ending in NUL",
    stack: "prod",
    mutate: (r) => (r.observability.runbookBaseUrl = "https://git.example.com/runbooks.md\u0000"),
    path: "retrieval-stack:observability.runbookBaseUrl",
    says: ["control character", "Fix:"],
  },
  {
    name: "a JWKS URL with a file: scheme",
    stack: "prod",
    mutate: (r) =>
      (r.gateway = { jwt: { issuer: "https://login.example.com/", audience: "x", jwksUrl: "file:///etc/passwd" } }),
    path: "retrieval-stack:gateway.jwt.jwksUrl",
    says: ['"file:" is a scheme other than http(s)', "Fix: use an https URL"],
  },
  {
    name: "a plain-http issuer",
    stack: "prod",
    mutate: (r) =>
      (r.gateway = {
        jwt: { issuer: "http://login.example.com/", audience: "x", jwksUrl: "https://login.example.com/jwks" },
      }),
    path: "retrieval-stack:gateway.jwt.issuer",
    says: ["is plain http in prod", 'Fix: use the https URL, e.g. "https://login.example.com/"'],
  },
  {
    name: "a JWKS URL at the instance metadata address",
    stack: "prod",
    mutate: (r) =>
      (r.gateway = {
        jwt: { issuer: "https://login.example.com/", audience: "x", jwksUrl: "https://169.254.169.254/latest" },
      }),
    path: "retrieval-stack:gateway.jwt.jwksUrl",
    says: ["link-local", "metadata", "Fix:"],
  },
  {
    name: "an issuer with a newline (was silently rewritten)",
    stack: "prod",
    mutate: (r) =>
      (r.gateway = {
        jwt: { issuer: "https://login.exa\nmple.com/", audience: "x", jwksUrl: "https://login.example.com/jwks" },
      }),
    path: "retrieval-stack:gateway.jwt.issuer",
    says: ["control character", "silently drop or rewrite", "Fix:"],
  },
  {
    name: "an ACME directory URL with a tab",
    stack: "prod",
    mutate: (r) => (r.ingress.tls.server = "https://acme.example.com/\tdirectory"),
    path: "retrieval-stack:ingress.tls.server",
    says: ["control character", "Fix:"],
  },
  {
    name: "a canary key name with a newline",
    stack: "prod",
    mutate: (r) => (r.observability.canary = { keyName: "canary\nadmin" }),
    path: "retrieval-stack:observability.canary.keyName",
    says: ["not a DNS label", "Fix:"],
  },
  // 6. A safeguard switched off in prod: the quality check that passes anything.
  {
    name: "verification.quality.minMrrAt10 0",
    stack: "prod",
    mutate: (r) => (r.verification.quality.minMrrAt10 = 0),
    path: "retrieval-stack:verification.quality.minMrrAt10",
    says: ["passes whatever the model answers", "Fix:"],
  },
  // 7. Tags that move, revisions with shell characters.
  {
    name: "engine tag LATEST",
    stack: "prod",
    mutate: (r) => (r.models[0].engineVersion = "LATEST"),
    path: "retrieval-stack:models[0].engineVersion",
    says: ['not "latest", "nightly"', "in any case", 'Fix: pin e.g. "v0.11.0"'],
  },
  {
    name: "engine tag nightly",
    stack: "prod",
    mutate: (r) => (r.models[0].engineVersion = "nightly"),
    path: "retrieval-stack:models[0].engineVersion",
    says: ["not a fixed release tag", "Fix:"],
  },
  {
    name: "a revision with shell characters",
    stack: "prod",
    mutate: (r) => (r.models[0].revision = "main; rm -rf /"),
    path: "retrieval-stack:models[0].revision",
    says: ["no spaces or shell characters", "Fix: write the commit hash"],
  },
  // 8. Autoscaling targets KEDA cannot turn into a quantity.
  {
    name: "queueDepthPerReplica 1e-300",
    stack: "prod",
    mutate: (r) => (r.models[0].autoscaling = { queueDepthPerReplica: 1e-300 }),
    path: "retrieval-stack:models[0].autoscaling.queueDepthPerReplica",
    says: ["target of 0", "Fix: use a value from 0.1 to 100000"],
  },
  {
    name: "inFlightPerReplica 1e300",
    stack: "prod",
    mutate: (r) => (r.models[0].autoscaling = { inFlightPerReplica: 1e300 }),
    path: "retrieval-stack:models[0].autoscaling.inFlightPerReplica",
    says: ["never scale up", "Fix:"],
  },
  // 9. Retention that overflows or keeps nothing.
  {
    name: "retention 99999999999999999999y",
    stack: "prod",
    mutate: (r) => (r.observability.retention = "99999999999999999999y"),
    path: "retrieval-stack:observability.retention",
    says: ["is longer than 10y", "Fix: use 1h to 10y"],
  },
  {
    name: "retention 999999y",
    stack: "prod",
    mutate: (r) => (r.observability.logs = { retention: "999999y" }),
    path: "retrieval-stack:observability.logs.retention",
    says: ["longer than 10y", "Fix: use 1h to 10y"],
  },
  {
    name: "retention 0d",
    stack: "prod",
    mutate: (r) => (r.observability.retention = "0d"),
    path: "retrieval-stack:observability.retention",
    says: ["is zero", "Fix: use 1h to 10y"],
  },
  // 10. Verification timeouts that cannot work.
  {
    name: "timeoutSeconds 0.0001",
    stack: "prod",
    mutate: (r) => (r.verification.timeoutSeconds = 0.0001),
    path: "retrieval-stack:verification.timeoutSeconds",
    says: ["below 1 s", "Fix: use a value from 1 s to 3600 s"],
  },
  {
    name: "a request timeout above the total",
    stack: "prod",
    mutate: (r) => Object.assign(r.verification, { timeoutSeconds: 10, requestTimeoutSeconds: 60 }),
    path: "retrieval-stack:verification.requestTimeoutSeconds",
    says: ["above verification.timeoutSeconds (10)", "Fix: set it below 10"],
  },
  // 11. Sizes beyond anything real.
  {
    name: "unknown-model spec.dims 1e9",
    stack: "prod",
    mutate: (r) =>
      (r.models[1] = {
        ...r.models[1],
        model: "acme/private-embedder",
        spec: { task: "embed", dims: 1e9, maxTokens: 512, parametersB: 0.1, architecture: "bert" },
      }),
    path: "retrieval-stack:models[1].spec.dims",
    says: ["is above 65536", "Fix:"],
  },
  {
    name: 'maxBodySize "99999999999m"',
    stack: "prod",
    mutate: (r) => (r.ingress.maxBodySize = "99999999999m"),
    path: "retrieval-stack:ingress.maxBodySize",
    says: ["above 1024m", 'Fix: use e.g. "32m"'],
  },
  {
    name: "a Slack channel with a newline",
    stack: "prod",
    mutate: (r) =>
      r.observability.receivers.push({ name: "slack", type: "slack", urlSecretKey: "wecom", channel: "#ops\n#all" }),
    path: "retrieval-stack:observability.receivers[3].channel",
    says: ["not a Slack channel name", 'Fix: write e.g. "#ml-oncall"'],
  },
  // 12. Gateway keys and replicas.
  {
    name: "one key hash under two names",
    stack: "prod",
    mutate: (r) => (r.gateway = { keys: { "team-a": { sha256: [HASH] }, "team-b": { sha256: [HASH] } } }),
    path: "retrieval-stack:gateway.keys.team-b.sha256[0]",
    says: ['also a hash of key "team-a"', "Fix: remove it from one of the two"],
  },
  {
    name: "a key named like the canary's",
    stack: "prod",
    mutate: (r) => (r.gateway = { keys: { canary: { sha256: [HASH] } } }),
    path: "retrieval-stack:gateway.keys.canary",
    says: ["quality canary's key name", 'Fix: rename the key, e.g. "canary-team"'],
  },
  {
    name: "a key named like a generated one",
    stack: "prod",
    mutate: (r) => (r.gateway = { keys: { "api-key-1": { sha256: [HASH] } } }),
    path: "retrieval-stack:gateway.keys.api-key-1",
    says: ["api-key-1, api-key-2", "Fix: rename the key"],
  },
  {
    name: "a prod gateway with one replica",
    stack: "prod",
    mutate: (r) => (r.gateway = { replicas: 1 }),
    path: "retrieval-stack:gateway.replicas",
    says: ["takes the whole API down", "Fix: set at least 2"],
  },
  {
    name: "a gateway image with an uppercase repository",
    stack: "prod",
    mutate: (r) => (r.gateway = { image: "ghcr.io/Acme/gateway:1.0" }),
    path: "retrieval-stack:gateway.image",
    says: ["upper case", "Fix:"],
  },
  {
    name: "a gateway image tagged LATEST",
    stack: "prod",
    mutate: (r) => (r.gateway = { image: "ghcr.io/acme/gateway:LATEST" }),
    path: "retrieval-stack:gateway.image",
    says: ["move under you", "Fix: pin a release"],
  },
  {
    name: "a gateway image with two tags",
    stack: "prod",
    mutate: (r) => (r.gateway = { image: "ghcr.io/acme/gateway:1.0:2.0" }),
    path: "retrieval-stack:gateway.image",
    says: ["has two tags", "Fix: keep one tag"],
  },
  // 13. urlSecretKey names the fix command cannot write.
  {
    name: "urlSecretKey with a dot",
    stack: "prod",
    mutate: (r) => (r.observability.receivers[0].urlSecretKey = "we.com"),
    path: "retrieval-stack:observability.receivers[0].urlSecretKey",
    says: ["pulumi config set --path", 'Fix: use letters, digits, "_" and "-"'],
  },
  {
    name: "urlSecretKey with a newline",
    stack: "prod",
    mutate: (r) => (r.observability.receivers[0].urlSecretKey = "wecom\nx"),
    path: "retrieval-stack:observability.receivers[0].urlSecretKey",
    says: ["control character", "Fix:"],
  },
  // Canary timing: a run less than daily, a jitter that overlaps runs.
  {
    name: "a canary interval of years",
    stack: "prod",
    mutate: (r) => (r.observability.canary = { intervalSeconds: 1e9 }),
    path: "retrieval-stack:observability.canary.intervalSeconds",
    says: ["less than once a day", "Fix: use a value from 10 s to 86400 s"],
  },
];

describe("accepted before, wrong in effect: now refused with path, value and fix", () => {
  it.each(CASES)("$name", ({ stack, mutate, path: at, says }) => {
    const problems = problemsOf(stack, mutate);
    const p = problems.find((x) => x.path === at);
    expect(p, `no problem at ${at}; got:\n${problems.map((x) => `${x.path}: ${x.message}`).join("\n")}`).toBeDefined();
    expect(p!.message).toMatch(/\. Fix: .+\.$/);
    for (const s of says) expect(p!.message).toMatch(typeof s === "string" ? new RegExp(escape(s)) : s);
    // The value is shown on one line, cut to a readable length.
    const shown = describeValue(p!.value);
    expect(shown.length).toBeLessThanOrEqual(80);
    expect(shown).not.toMatch(/[\u0000-\u001f]/);
  });
});

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("safeguards switched off: warned in plan.md and on stderr (planWarnings)", () => {
  it.each([
    [
      "prod verification.mode off",
      "prod",
      (r: any): void => void (r.verification.mode = "off"),
      "verification.mode off",
    ],
    ["prod ingress disabled", "prod", (r: any): void => void (r.ingress.enabled = false), "ingress.enabled false"],
    [
      "staging without receivers",
      "staging",
      (r: any): void => void (r.observability.receivers = []),
      "staging stack without alert receivers",
    ],
    [
      "--trust-remote-code in prod",
      "prod",
      (r: any): void => void (r.models[0].extraArgs = ["--trust-remote-code"]),
      "models[0] (bge-large-zh) with --trust-remote-code",
    ],
  ] as const)("%s", (_name, stack, mutate, says) => {
    expect(planWarnings(parseStack(stack))).not.toEqual(expect.arrayContaining([expect.stringContaining(says)]));
    const warnings = planWarnings(parseStack(stack, mutate));
    const w = warnings.find((x) => x.includes(says));
    expect(w, warnings.join("\n")).toBeDefined();
    expect(w).toMatch(/Fix: .+\.$/);
  });
});

describe("values echoed in messages are cut and escaped", () => {
  it("a 100,000-character model name with newlines stays on one readable line", () => {
    const name = `bad\nname-${"x".repeat(100_000)}`;
    const problems = problemsOf("prod", (r) => (r.models[0].name = name));
    const text = formatProblems(problems, "stacks/Pulumi.prod.yaml");
    for (const line of text.split("\n").slice(1)) {
      expect(line.startsWith("  - ")).toBe(true);
      expect(line.length).toBeLessThan(1200);
    }
    expect(text).toContain("bad\\nname-xxx");
  });
});
