/**
 * The in-cluster counter store of a Gateway (local, dev and existing clusters; cloud stacks use ElastiCache,
 * components/cluster/limit-store.ts): Redis run as `redis-server` directly, password from a Secret, the daily
 * counts in an append-only file on a volume, a PDB, reachable from the gateway's pods only. Pure.
 */
import type * as k8s from "@pulumi/kubernetes";
import { IMAGES } from "../versions";
import { standardLabels } from "../k8s/meta";
import { nonRootPodSecurity, restrictedContainerSecurity } from "../k8s/pod-security";
import { ingressOnlySpec } from "../k8s/network-policies";
import type { GatewayNames } from "./names";

/**
 * The official Redis image, pinned in components/versions.ts. Its entrypoint (docker-entrypoint.sh) appends a
 * --loadmodule for every module under /usr/local/lib/redis/modules/ (redis/docker-library-redis
 * debian/docker-entrypoint.sh at 0d55be9, read 2026-12-07); a counter store needs none of them, so the container
 * runs /usr/local/bin/redis-server itself (the path that entrypoint checks for).
 */
export const REDIS_IMAGE = `${IMAGES.redis.repository}:${IMAGES.redis.tag}`;
const REDIS_SERVER = "/usr/local/bin/redis-server";
const REDIS_PORT = 6379;
/** The official image's redis user (uid/gid 999). */
const REDIS_UID = 999;
/** Key of the store's Secret holding the password (hex, URL-safe). */
export const STORE_PASSWORD_KEY = "password";
/** Key of the store's Secret holding a redis.conf fragment (`requirepass ...`), so the password is on no command line. */
const STORE_AUTH_CONF_KEY = "auth.conf";
const AUTH_DIR = "/etc/redis-auth";
const DATA_DIR = "/data";

/** Persistent volume for the append-only file: a day's counters of thousands of keys are a few MB. */
const STORE_VOLUME_SIZE = "1Gi";

export interface CounterStorePlan {
  readonly host: string;
  readonly selector: Record<string, string>;
  readonly authSecretMetadata: { name: string; namespace: string; labels: Record<string, string> };
  readonly volumeClaim: k8s.core.v1.PersistentVolumeClaimArgs;
  readonly deployment: k8s.apps.v1.DeploymentArgs;
  readonly service: k8s.core.v1.ServiceArgs;
  readonly podDisruptionBudget: k8s.policy.v1.PodDisruptionBudgetArgs;
  readonly networkPolicy: k8s.networking.v1.NetworkPolicyArgs;
}

/** redis:// (rediss:// with TLS) URL of a store; `password` as given (e.g. "$(STORE_PASSWORD)" for env expansion). */
export function storeUrl(host: string, tls: boolean, password?: string, port = REDIS_PORT): string {
  return `${tls ? "rediss" : "redis"}://${password ? `:${password}@` : ""}${host}:${port}`;
}

/** The store's Secret data: the password and the include file redis-server reads it from. */
export function storeAuthData(password: string): Record<string, string> {
  return { [STORE_PASSWORD_KEY]: password, [STORE_AUTH_CONF_KEY]: `requirepass ${password}\n` };
}

/**
 * What redis-server is told: the auth include, counters only (no RDB snapshots), every write in the append-only
 * file fsynced each second (a crash loses at most a second of counts; a restart keeps the day's), memory capped
 * with the keys closest to expiry evicted first (every counter has a TTL).
 */
function storeArgs(): string[] {
  return [
    `${AUTH_DIR}/${STORE_AUTH_CONF_KEY}`,
    "--port",
    String(REDIS_PORT),
    "--dir",
    DATA_DIR,
    "--save",
    "",
    "--appendonly",
    "yes",
    "--appendfsync",
    "everysec",
    "--maxmemory",
    "200mb",
    "--maxmemory-policy",
    "volatile-ttl",
    "--protected-mode",
    "yes",
  ];
}

export function planCounterStore(i: {
  readonly names: GatewayNames;
  readonly namespace: string;
  readonly gatewaySelector: Record<string, string>;
}): CounterStorePlan {
  const name = i.names.store;
  const labels = standardLabels(name, "gateway-redis");
  const selector = { "app.kubernetes.io/name": name, "app.kubernetes.io/component": "gateway-redis" };
  const meta = (n = name) => ({ name: n, namespace: i.namespace, labels });
  return {
    host: `${name}.${i.namespace}.svc.cluster.local`,
    selector,
    authSecretMetadata: meta(i.names.storeAuth),
    volumeClaim: {
      metadata: meta(),
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: STORE_VOLUME_SIZE } } },
    },
    deployment: {
      metadata: meta(),
      spec: {
        replicas: 1,
        selector: { matchLabels: selector },
        // One writer of the volume: never two at once during a rollout.
        strategy: { type: "Recreate" },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: { ...nonRootPodSecurity(REDIS_UID), fsGroup: REDIS_UID },
            containers: [
              {
                name: "redis",
                image: REDIS_IMAGE,
                command: [REDIS_SERVER],
                args: storeArgs(),
                ports: [{ name: "redis", containerPort: REDIS_PORT, protocol: "TCP" }],
                readinessProbe: { tcpSocket: { port: "redis" }, periodSeconds: 5 },
                livenessProbe: { tcpSocket: { port: "redis" }, periodSeconds: 10 },
                resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "256Mi" } },
                securityContext: restrictedContainerSecurity(),
                volumeMounts: [
                  { name: "data", mountPath: DATA_DIR },
                  { name: "auth", mountPath: AUTH_DIR, readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: "data", persistentVolumeClaim: { claimName: name } },
              { name: "auth", secret: { secretName: i.names.storeAuth, defaultMode: 0o440 } },
            ],
          },
        },
      },
    },
    service: {
      metadata: meta(),
      spec: { type: "ClusterIP", selector, ports: [{ name: "redis", port: REDIS_PORT, targetPort: "redis" }] },
    },
    // One pod: a drain may still evict it (maxUnavailable 1), but never together with another voluntary disruption
    // of the store; while it restarts the gateways limit in memory (fail-open) and the AOF brings the counts back.
    podDisruptionBudget: { metadata: meta(), spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
    networkPolicy: {
      metadata: meta(),
      spec: ingressOnlySpec(selector, [
        {
          from: [{ podSelector: { matchLabels: { ...i.gatewaySelector } } }],
          ports: [{ protocol: "TCP", port: REDIS_PORT }],
        },
      ]),
    },
  };
}
