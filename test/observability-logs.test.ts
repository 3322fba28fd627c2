/**
 * The log stack: Loki's and Alloy's values against what the pinned charts require, the AWS objects of a cloud
 * stack (encrypted bucket, lifecycle matching the retention, IRSA role for Loki's service account only), the
 * Grafana wiring, and the LogQL of every log panel parsed by Grafana's own LogQL grammar (@grafana/lezer-logql).
 */
import * as k8s from "@pulumi/kubernetes";
import { parser } from "@grafana/lezer-logql";
import { describe, expect, it } from "vitest";
import { ObservabilitySchema, type ObservabilityConfig } from "../components/config";
import { secretInputs } from "../components/validation";
import { Observability } from "../components/observability";
import { LogStack, logRetentionHours, logsEnabled } from "../components/observability/logs/log-stack";
import { lokiBucketPolicy, lokiValues, LOKI_CHART } from "../components/observability/logs/loki";
import { ALLOY_CHART, LOG_LABELS, alloyConfig } from "../components/observability/logs/alloy";
import { AUDIT_FIELDS, allLogQueries } from "../components/observability/logs/queries";
import {
  GATEWAY_AUDIT_UID,
  MODEL_LOGS_UID,
  gatewayAuditDashboard,
  logQueriesOf,
  modelLogsDashboard,
} from "../components/observability/logs/dashboards";
import { renderResources } from "./harness";
import { parseStack } from "./config-helpers";

const prod = parseStack("prod");
const local = parseStack("local");
const AWS = {
  region: "us-east-1",
  oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC",
  oidcIssuer: "oidc.eks.us-east-1.amazonaws.com/id/ABC",
};

/** Grafana's LogQL parser: the error nodes (⚠) of a query, with the text around each. */
function logqlErrors(query: string): string[] {
  // Grafana substitutes its variables before Loki sees the query; do the same with typical values.
  const q = query.replaceAll("$__auto", "1m").replace(/\$(\w+)/g, "x");
  const errors: string[] = [];
  parser.parse(q).iterate({
    enter: (n) => {
      if (n.type.isError) errors.push(`at ${n.from}: "${q.slice(Math.max(0, n.from - 15), n.to + 15)}"`);
    },
  });
  return errors;
}

describe("Loki values, as the pinned chart's templates/validate.yaml requires", () => {
  const s3 = lokiValues({
    storage: { type: "s3", bucket: "b", region: "us-east-1", roleArn: "arn:aws:iam::1:role/loki" },
    retentionHours: 720,
    storageGiB: 20,
  }) as Record<string, any>;
  const fs = lokiValues({ storage: { type: "filesystem" }, retentionHours: 48, storageGiB: 5 }) as Record<string, any>;

  it("single binary: one replica, no simple-scalable or distributed targets, a real schema, no Helm test without canary", () => {
    for (const v of [s3, fs]) {
      expect(v.deploymentMode).toBe("SingleBinary");
      expect(v.singleBinary.replicas).toBe(1);
      expect([v.read.replicas, v.write.replicas, v.backend.replicas]).toEqual([0, 0, 0]);
      expect(v.loki.schemaConfig.configs[0]).toMatchObject({ store: "tsdb", schema: "v13" });
      expect(v.loki.useTestSchema).toBeUndefined();
      // validate.yaml: "Helm test requires the Loki Canary to be enabled".
      expect(v.test.enabled && !v.lokiCanary.enabled).toBe(false);
      expect(v.loki.commonConfig.replication_factor).toBe(1);
      expect([v.chunksCache.enabled, v.resultsCache.enabled, v.gateway.enabled]).toEqual([false, false, false]);
    }
  });
  it("cloud: S3 through IRSA (no keys), retention by the compactor with an S3 delete-request store", () => {
    expect(s3.loki.storage).toEqual({
      type: "s3",
      bucketNames: { chunks: "b", ruler: "b", admin: "b" },
      s3: { region: "us-east-1" },
    });
    expect(JSON.stringify(s3)).not.toMatch(/accessKeyId|secretAccessKey/);
    expect(s3.serviceAccount).toEqual({
      create: true,
      name: "loki",
      annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/loki" },
    });
    expect(s3.loki.schemaConfig.configs[0].object_store).toBe("s3");
    expect(s3.loki.limits_config.retention_period).toBe("720h");
    expect(s3.loki.compactor).toEqual({ retention_enabled: true, delete_request_store: "s3" });
  });
  it("local: the filesystem on the pod's volume", () => {
    expect(fs.loki.storage).toEqual({ type: "filesystem" });
    expect(fs.loki.compactor.delete_request_store).toBe("filesystem");
    expect(fs.singleBinary.persistence).toEqual({ enabled: true, size: "5Gi" });
    expect(fs.serviceAccount.annotations).toBeUndefined();
  });
  it("pins exact chart versions from grafana's chart repository", () => {
    for (const c of [LOKI_CHART, ALLOY_CHART]) {
      expect(c.version).toMatch(/^\d+\.\d+\.\d+$/);
      expect(c.repo).toBe("https://grafana.github.io/helm-charts");
    }
  });
});

describe("config: logs on in cloud stacks, retention per environment", () => {
  it("defaults on in dev/staging/prod, off in local; observability.logs.enabled overrides; off with observability", () => {
    expect(logsEnabled(prod.observability, "prod")).toBe(true);
    expect(logsEnabled(local.observability, "local")).toBe(false);
    expect(logsEnabled(ObservabilitySchema.parse({ logs: { enabled: true } }), "local")).toBe(true);
    expect(logsEnabled(ObservabilitySchema.parse({ logs: { enabled: false } }), "prod")).toBe(false);
    expect(logsEnabled(ObservabilitySchema.parse({ enabled: false, logs: { enabled: true } }), "prod")).toBe(false);
  });
  it("keeps logs as long as metrics unless observability.logs.retention says otherwise", () => {
    expect(logRetentionHours(prod.observability)).toBe(30 * 24);
    expect(logRetentionHours(local.observability)).toBe(48);
    expect(logRetentionHours(ObservabilitySchema.parse({ logs: { retention: "2w" } }))).toBe(336);
    expect(logRetentionHours(ObservabilitySchema.parse({ logs: { retention: "90m" } }))).toBe(24);
  });
});

function renderLogs(observability: ObservabilityConfig, environment: "prod" | "local", aws?: typeof AWS) {
  return renderResources(() => {
    const provider = new k8s.Provider("k8s", { kubeconfig: "offline" });
    new LogStack("logs", {
      provider,
      environment,
      observability,
      models: prod.models,
      ...(aws ? { aws: { ...aws, tags: { stack: "test" } } } : {}),
    });
  });
}

describe("LogStack objects", () => {
  it("cloud: an encrypted, private, TLS-only bucket whose lifecycle expires objects at the retention", async () => {
    const r = await renderLogs(prod.observability, "prod", AWS);
    expect(r.ofType("aws:s3/bucket:Bucket")).toHaveLength(1);
    const sse = r.ofType("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[0]!
      .inputs as any;
    expect(sse.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("aws:kms");
    const pab = r.ofType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0]!.inputs as any;
    expect([pab.blockPublicAcls, pab.blockPublicPolicy, pab.ignorePublicAcls, pab.restrictPublicBuckets]).toEqual([
      true,
      true,
      true,
      true,
    ]);
    const lifecycle = r.ofType("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")[0]!.inputs as any;
    // Only chunks and index tables expire: never the cluster seed (loki_cluster_seed.json at the root) nor the
    // compactor's delete requests (index/delete_requests/), which an empty filter would take too.
    expect(lifecycle.rules.length).toBeGreaterThan(0);
    for (const rule of lifecycle.rules) {
      expect(rule).toMatchObject({ status: "Enabled", expiration: { days: 30 } });
      expect(rule.filter?.prefix, JSON.stringify(rule)).toMatch(/^.+\/.*$/);
    }
    const prefixes = lifecycle.rules.map((x: { filter: { prefix: string } }) => x.filter.prefix).sort();
    expect(prefixes).toEqual(["fake/", "index/loki_index_"]);
    for (const key of ["loki_cluster_seed.json", "index/delete_requests/delete_requests.gz"])
      expect(
        prefixes.some((p: string) => key.startsWith(p)),
        key,
      ).toBe(false);
    const policy = JSON.parse((r.ofType("aws:s3/bucketPolicy:BucketPolicy")[0]!.inputs as any).policy);
    expect(policy.Statement[0]).toMatchObject({
      Effect: "Deny",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
  });

  it("cloud: only monitoring:loki can assume the role, and it may touch only the bucket", async () => {
    const r = await renderLogs(prod.observability, "prod", AWS);
    const role = r.ofType("aws:iam/role:Role")[0]!.inputs as any;
    const trust = JSON.parse(role.assumeRolePolicy);
    expect(trust.Statement).toHaveLength(1);
    expect(trust.Statement[0].Principal).toEqual({ Federated: AWS.oidcProviderArn });
    expect(trust.Statement[0].Condition.StringEquals).toEqual({
      [`${AWS.oidcIssuer}:sub`]: "system:serviceaccount:monitoring:loki",
      [`${AWS.oidcIssuer}:aud`]: "sts.amazonaws.com",
    });
    const inline = JSON.parse((r.ofType("aws:iam/rolePolicy:RolePolicy")[0]!.inputs as any).policy);
    // (The offline mocks know no bucket ARN; lokiBucketPolicy's resources are checked below with a real one.)
    expect(lokiBucketPolicy("arn:aws:s3:::logs").Statement.flatMap((x: { Resource: string[] }) => x.Resource)).toEqual([
      "arn:aws:s3:::logs",
      "arn:aws:s3:::logs/*",
    ]);
    expect(inline.Statement.flatMap((s: { Action: string[] }) => s.Action).sort()).toEqual(
      ["s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject"].sort(),
    );
    const loki = r.inputs("kubernetes:helm.sh/v3:Release", "logs-loki");
    expect(loki).toMatchObject({ chart: "loki", version: LOKI_CHART.version, namespace: "monitoring" });
    expect(loki.values.loki.storage.type).toBe("s3");
    expect(loki.values.serviceAccount.name).toBe("loki");
  });

  it("local: filesystem, no AWS resource; Alloy on every node (GPU taints tolerated) reading /var/log/pods", async () => {
    const r = await renderLogs(local.observability, "local");
    expect(r.types().filter((t) => t.startsWith("aws:"))).toEqual([]);
    expect(r.inputs("kubernetes:helm.sh/v3:Release", "logs-loki").values.loki.storage).toEqual({ type: "filesystem" });
    const alloy = r.inputs("kubernetes:helm.sh/v3:Release", "logs-alloy");
    expect(alloy).toMatchObject({ chart: "alloy", version: ALLOY_CHART.version });
    expect(alloy.values.controller).toMatchObject({ type: "daemonset", tolerations: [{ operator: "Exists" }] });
    expect(alloy.values.alloy.mounts.varlog).toBe(true);
    // File positions on the node survive a restart (no re-reading every log); no usage reports to Grafana Labs.
    expect(alloy.values.alloy.enableReporting).toBe(false);
    const storage = alloy.values.alloy.storagePath;
    expect(storage).not.toMatch(/^\/tmp/);
    const mount = alloy.values.alloy.mounts.extra.find((m: { mountPath: string }) => m.mountPath === storage);
    expect(mount).toBeDefined();
    const volume = alloy.values.controller.volumes.extra.find((v: { name: string }) => v.name === mount.name);
    expect(volume.hostPath).toMatchObject({ type: "DirectoryOrCreate" });
    expect(alloy.values.alloy.configMap.content).toContain('url = "http://loki.monitoring.svc:3100/loki/api/v1/push"');
  });

  it("a cloud stack on a cluster it did not create (no OIDC provider) keeps Loki's chunks on its volume", async () => {
    const r = await renderLogs(prod.observability, "prod");
    expect(r.ofType("aws:s3/bucket:Bucket")).toHaveLength(0);
    expect(r.ofType("aws:iam/role:Role")).toHaveLength(0);
    const loki = r.ofType("kubernetes:helm.sh/v3:Release").find((x) => x.inputs.chart === "loki")!;
    expect(JSON.stringify(loki.inputs.values)).toContain('"type":"filesystem"');
  });
});

describe("Alloy's configuration (no Alloy binary here: a careful syntactic check)", () => {
  const config = alloyConfig("http://loki.monitoring.svc:3100/loki/api/v1/push");
  it("balanced blocks, every reference to a declared component, our stream labels", () => {
    let depth = 0;
    for (const ch of config.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
      if (ch === "{") depth++;
      if (ch === "}") depth--;
      expect(depth).toBeGreaterThanOrEqual(0);
    }
    expect(depth).toBe(0);
    const declared = new Set(
      [...config.matchAll(/^([a-z_]+\.[a-z_.]+) "([a-z_]+)" \{/gm)].map((m) => `${m[1]}.${m[2]}`),
    );
    expect([...declared].sort()).toEqual(
      [
        "discovery.kubernetes.pods",
        "discovery.relabel.pods",
        "local.file_match.pods",
        "loki.process.pods",
        "loki.source.file.pods",
        "loki.write.loki",
      ].sort(),
    );
    for (const m of config.matchAll(/= \[?([a-z_]+\.[a-z_.]+)\.(targets|output|receiver)\]?$/gm))
      expect(declared.has(m[1]!), m[0]).toBe(true);
    const targets = [...config.matchAll(/target_label\s*=\s*"([a-z_]+)"/g)].map((m) => m[1]);
    expect(targets.filter((t) => t !== "__path__").sort()).toEqual([...LOG_LABELS].sort());
    expect(config).toContain('source_labels = ["__meta_kubernetes_pod_label_retrieval_stack_io_model"]');
    expect(config).toContain('source_labels = ["__meta_kubernetes_pod_label_retrieval_stack_io_engine"]');
  });
});

describe("LogQL of every log panel, parsed by Grafana's LogQL grammar (@grafana/lezer-logql)", () => {
  const audit = { namespace: "ingress", container: "gateway" };
  const dashboards = [modelLogsDashboard(["bge", "qwen3-reranker"], "retrieval"), gatewayAuditDashboard(audit)];

  it("the parser catches a broken query (the check can fail)", () => {
    expect(logqlErrors('{namespace="x" | json')).not.toEqual([]);
    expect(logqlErrors('sum by (key) (rate({a="b"} [5m])')).not.toEqual([]);
  });
  it.each(allLogQueries("retrieval", audit))("%s", (q) => {
    expect(logqlErrors(q)).toEqual([]);
  });
  it("the dashboards hold exactly these queries, on the Loki data source; the audit view reads only the gateway's fields", () => {
    const queries = dashboards.flatMap(logQueriesOf);
    expect(new Set(queries)).toEqual(new Set(allLogQueries("retrieval", audit)));
    for (const d of dashboards)
      for (const p of d.panels ?? []) expect((p as { datasource?: { type: string } }).datasource?.type).toBe("loki");
    const fields = new Set<string>(AUDIT_FIELDS);
    for (const q of queries.filter((x) => x.includes("| json")))
      for (const m of q.matchAll(/\| (?:unwrap )?([a-z_]+) (?:=~|!=|$|\[)/g))
        if (m[1] !== "json") expect(fields.has(m[1]!), m[1]).toBe(true);
    const audits = dashboards[1]!;
    expect(audits.uid).toBe(GATEWAY_AUDIT_UID);
    expect(logQueriesOf(audits).join("\n")).toMatch(/sum by \(key, model, status\)/);
  });
});

describe("Observability with logs", () => {
  it("gives Grafana the Loki data source, installs the stack and links every model dashboard to its logs", async () => {
    const r = await renderResources(() => {
      const provider = new k8s.Provider("k8s", { kubeconfig: "offline" });
      new Observability("observability", {
        provider,
        environment: "prod",
        observability: prod.observability,
        models: prod.models,
        secrets: secretInputs({
          grafanaAdminPassword: "SECRET-GRAFANA-PW",
          alertReceiverUrls: {
            wecom: "https://a.example/w",
            dingtalk: "https://a.example/d",
            audit: "https://a.example/a",
          },
        }),
        logs: { aws: AWS },
      });
    });
    const kps = r.inputs("kubernetes:helm.sh/v3:Release", "observability-kube-prometheus-stack");
    expect(kps.values.grafana.additionalDataSources).toEqual([
      { name: "Loki", type: "loki", uid: "loki", url: "http://loki.monitoring.svc:3100", access: "proxy" },
    ]);
    const dashboards = r
      .objects("ConfigMap")
      .filter((c) => c.metadata.name?.startsWith("dashboard-"))
      .map((c) => JSON.parse(Object.values(c.data as Record<string, string>)[0]!));
    expect(dashboards.map((d) => d.uid)).toEqual(expect.arrayContaining([MODEL_LOGS_UID, GATEWAY_AUDIT_UID]));
    for (const m of prod.models) {
      const d = dashboards.find((x) => x.uid === `rs-model-${m.name}`);
      expect(d.links).toEqual([
        expect.objectContaining({ title: "Model logs", url: `/d/${MODEL_LOGS_UID}/model-logs?var-model=${m.name}` }),
      ]);
    }
    const logs = dashboards.find((x) => x.uid === MODEL_LOGS_UID);
    expect(
      logs.templating.list
        .find((v: { name: string }) => v.name === "model")
        .options.map((o: { value: string }) => o.value),
    ).toEqual(prod.models.map((m) => m.name));
  });
});
