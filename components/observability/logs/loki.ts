/**
 * Loki in single-binary (monolithic) mode, pinned: chart `loki` 7.3.0 (Loki 3.6.12), grafana/loki
 * production/helm/loki (tag helm-loki-7.3.0, Chart.yaml, values.yaml, templates/validate.yaml), published in
 * https://grafana.github.io/helm-charts index.yaml (gh-pages 970fce7, created 2026-08-10); read 2026-12-01.
 * Pure: values only; the component (log-stack.ts) creates the bucket, the role and the release.
 */
import type { PinnedChart } from "../../k8s/helm";
import { CHARTS } from "../../versions";

export const LOKI_CHART: PinnedChart = CHARTS.loki;
/** The release's objects are called `loki` (fullnameOverride): Service loki:3100, ServiceAccount loki. */
export const LOKI_NAME = "loki";
const LOKI_HTTP_PORT = 3100;
/** The tsdb schema starts here; it must never move (a later change adds a new entry with a later date). */
const LOKI_SCHEMA_FROM = "2026-12-01";

export const lokiUrl = (namespace: string) => `http://${LOKI_NAME}.${namespace}.svc:${LOKI_HTTP_PORT}`;

/** Object storage in cloud stacks (an S3 bucket of ours, reached through IRSA); else the pod's volume. */
type LokiStorage =
  | { readonly type: "s3"; readonly bucket: string; readonly region: string; readonly roleArn: string }
  | { readonly type: "filesystem" };

interface LokiValuesInput {
  readonly storage: LokiStorage;
  readonly retentionHours: number;
  readonly storageGiB: number;
}

/**
 * Loki's object layout in its bucket (grafana/loki tag v3.6.12, a25e0d9, read 2026-12-07): with auth_enabled false
 * every request runs as tenant "fake" (pkg/loki/modules.go); a chunk's key is `<tenant>/<fingerprint>/...`
 * (pkg/storage/config/schema_config.go newerExternalKey, schema v12+); index tables live under "index/" as
 * `<prefix><period number>` (schema_config.go IndexTables.PathPrefix), next to the compactor's delete requests
 * ("index/delete_requests/", pkg/compactor/deletion DeleteRequestsTableName); the cluster seed is
 * loki_cluster_seed.json at the root (pkg/analytics/reporter.go).
 */
const LOKI_TENANT = "fake";
const LOKI_INDEX_TABLE_PREFIX = "loki_index_";
/** The key prefixes that age out with the retention: the tenant's chunks and the index tables, nothing else. */
export const LOKI_EXPIRING_PREFIXES = [`${LOKI_TENANT}/`, `index/${LOKI_INDEX_TABLE_PREFIX}`] as const;

export function lokiValues(input: LokiValuesInput): Record<string, unknown> {
  const s3 = input.storage.type === "s3" ? input.storage : undefined;
  const store = s3 ? "s3" : "filesystem";
  return {
    fullnameOverride: LOKI_NAME,
    deploymentMode: "SingleBinary",
    loki: {
      // One tenant (no X-Scope-OrgID): Alloy pushes, Grafana reads, nothing else reaches it (NetworkPolicy-free
      // namespace, ClusterIP only).
      auth_enabled: false,
      commonConfig: { replication_factor: 1 },
      storage: s3
        ? {
            type: "s3",
            bucketNames: { chunks: s3.bucket, ruler: s3.bucket, admin: s3.bucket },
            s3: { region: s3.region },
          }
        : { type: "filesystem" },
      schemaConfig: {
        configs: [
          {
            from: LOKI_SCHEMA_FROM,
            store: "tsdb",
            object_store: store,
            schema: "v13",
            index: { prefix: LOKI_INDEX_TABLE_PREFIX, period: "24h" },
          },
        ],
      },
      // Retention is applied by the compactor (limits_config.retention_period, compactor.retention_enabled;
      // grafana.com/docs/loki/latest/operations/storage/retention): it needs a delete-request store.
      limits_config: { retention_period: `${input.retentionHours}h` },
      compactor: { retention_enabled: true, delete_request_store: store },
    },
    singleBinary: {
      replicas: 1,
      persistence: { enabled: true, size: `${input.storageGiB}Gi` },
      resources: { requests: { cpu: "200m", memory: "512Mi" }, limits: { memory: "2Gi" } },
    },
    read: { replicas: 0 },
    write: { replicas: 0 },
    backend: { replicas: 0 },
    // The chart's extras for larger installs: memcached caches (8 GiB+ each by default), an nginx gateway, the
    // canary DaemonSet and its Helm test. A single binary for a few GB a day needs none of them.
    chunksCache: { enabled: false },
    resultsCache: { enabled: false },
    gateway: { enabled: false },
    lokiCanary: { enabled: false },
    test: { enabled: false },
    serviceAccount: {
      create: true,
      name: LOKI_NAME,
      ...(s3 ? { annotations: { "eks.amazonaws.com/role-arn": s3.roleArn } } : {}),
    },
  };
}

/** The least an S3 bucket needs to grant Loki: list it, read, write and delete objects in it. */
export function lokiBucketPolicy(bucketArn: string): {
  Version: string;
  Statement: { Effect: string; Action: string[]; Resource: string[] }[];
} {
  return {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucketArn] },
      { Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: [`${bucketArn}/*`] },
    ],
  };
}
