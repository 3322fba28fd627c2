import type * as k8s from "@pulumi/kubernetes";
import { GPU_CLASS_LABEL, GPU_RESOURCE, GPU_TAINT, NODE_GROUP_LABEL } from "../k8s/meta";
import { MODELS_NAMESPACE } from "../k8s/namespaces";
import type { EngineWorkload, ModelContext, ProbeAction } from "./engines/types";
import { defaultResources, startupBudgetSeconds } from "./sizing";
import { IMAGES } from "../versions";

type Container = k8s.types.input.core.v1.Container;
type PodSpec = k8s.types.input.core.v1.PodSpec;
type Probe = k8s.types.input.core.v1.Probe;

/**
 * Node-local weight cache. We chose a hostPath on the node's root volume (sized for weights by
 * gpuNodeGroups.diskSizeGiB) over the alternatives:
 * - a PVC (EBS) is zonal and ReadWriteOnce: it pins a replica to one zone and cannot be shared by replicas,
 *   which defeats zone spread; EFS/RWX is slow for multi-GB safetensors loads and needs a CSI driver;
 * - an S3 prefetch init step needs a bucket, IAM and a sync job, and still copies to the node each start.
 * With the hostPath, a restarted or rescheduled pod on a node that already has the weights loads them from
 * local disk; the Hugging Face cache layout (content-addressed, with file locks) is safe to share between the
 * replicas of one model.
 *
 * Each model gets its own directory under this root (`<root>/<namespace>/<model name>`, see cacheDirectoryOf), and
 * its pods mount only that directory: engines run as different users (KServe's image as UID 1000 after a chown,
 * vLLM/SGLang as root without DAC_OVERRIDE), so one shared directory chowned by one engine breaks another, and any
 * engine could rewrite another model's weights.
 */
export const NODE_CACHE_PATH = "/var/lib/retrieval-stack/model-cache";

/** The node directory that holds one model's weights: nothing else mounts it. */
export function cacheDirectoryOf(namespace: string, modelName: string): string {
  return `${NODE_CACHE_PATH}/${namespace}/${modelName}`;
}
/** Seconds between SIGTERM being scheduled and sent: lets kube-proxy and the ingress drop the endpoint first. */
export const PRE_STOP_SLEEP_SECONDS = 10;
const STARTUP_PROBE_PERIOD_SECONDS = 10;
/** Shared memory per GPU for PyTorch dataloader/NCCL tensors (vLLM's chart and Docker docs use 1-20 GiB). */
const SHM_GIB_PER_GPU = 2;
/** Pinned helper image for the cache-permission init step (components/versions.ts). */
const BUSYBOX_IMAGE = `${IMAGES.busybox.repository}:${IMAGES.busybox.tag}`;

export const HF_TOKEN_SECRET_KEY = "HF_TOKEN";

/**
 * The ingress's default upstream read timeout (config ingress.timeoutSeconds): the longest call a model pod serves
 * when its caller does not say (ModelServiceArgs.longestCallSeconds).
 */
const DEFAULT_LONGEST_CALL_SECONDS = 300;

/**
 * The longest call a model pod may be serving when it is told to stop: the ingress's upstream read timeout where
 * the ingress routes to models directly, the gateway's timeout of one attempt where the gateway calls them (a retry
 * goes to another replica). The pod's grace period covers it, so a rollout or scale-down never cuts a call short.
 */
export function longestCallSeconds(stack: {
  readonly ingress: { readonly enabled: boolean; readonly timeoutSeconds: number };
  readonly gateway: { readonly enabled: boolean; readonly upstreamTimeoutSeconds: number };
}): number {
  return Math.ceil(
    Math.max(
      stack.ingress.enabled ? stack.ingress.timeoutSeconds : 0,
      stack.gateway.enabled ? stack.gateway.upstreamTimeoutSeconds : 0,
    ),
  );
}

export interface PodPlan {
  readonly spec: PodSpec;
  /** The engine container (for KServe, the predictor's `model` container). */
  readonly engine: Container;
  readonly startupBudgetSeconds: number;
  readonly terminationGracePeriodSeconds: number;
  readonly resources: { readonly cpu: string; readonly memory: string; readonly gpus: number };
}

interface PodInputs {
  readonly ctx: ModelContext;
  readonly workload: EngineWorkload;
  readonly nodeGroup?: string;
  readonly hfTokenSecretName?: string;
  readonly filesConfigMapName?: string;
  /** Spread constraints and affinity need the pod's own labels. */
  readonly podLabels: Record<string, string>;
  /** Port of the engine's metrics endpoint (adapter.metrics.port). */
  readonly metricsPort?: number;
  /** DoNotSchedule spread (HA environments) or ScheduleAnyway. */
  readonly strictSpread: boolean;
  /** Namespace of the model: part of its node cache directory (default MODELS_NAMESPACE). */
  readonly namespace?: string;
  /**
   * Labels a GPU node must carry for the model (all of them). Default: the node group and GPU class labels the
   * stack's Cluster puts on its GPU nodes (NODE_GROUP_LABEL = gpu.nodeGroup, GPU_CLASS_LABEL = the instance's class).
   */
  readonly gpuNodeLabels?: Readonly<Record<string, string>>;
  /** The longest call the pod may be serving (longestCallSeconds); default DEFAULT_LONGEST_CALL_SECONDS. */
  readonly longestCallSeconds?: number;
}

function probe(action: ProbeAction, timing: Omit<Probe, "httpGet" | "exec">): Probe {
  return "httpGet" in action
    ? { httpGet: { path: action.httpGet.path, port: action.httpGet.port }, ...timing }
    : { exec: { command: [...action.exec.command] }, ...timing };
}

/** Builds the pod of one model: probes, resources, placement, security, volumes. Pure. */
export function planPod(p: PodInputs): PodPlan {
  const { ctx, workload } = p;
  const gpus = ctx.gpu?.count ?? 0;
  const shmGiB = workload.sharedMemory ? SHM_GIB_PER_GPU * Math.max(1, gpus) : 0;
  // A memory-backed emptyDir counts against the container's memory limit: the default request includes it.
  const defaults = defaultResources(ctx.spec, ctx.gpu ? ctx.gpu.instance : undefined, shmGiB);
  const memory = ctx.model.resources?.memory ?? `${defaults.memoryGiB}Gi`;
  const cpu = ctx.model.resources?.cpu ?? defaults.cpu;
  const budget = startupBudgetSeconds(ctx.spec, workload.startupOverheadSeconds, gpus > 0);
  // After the preStop sleep the engine stops taking requests and finishes those it has: the longest of them may
  // have just started, and the engine needs its own drain time at least.
  const grace =
    PRE_STOP_SLEEP_SECONDS + Math.max(workload.drainSeconds, p.longestCallSeconds ?? DEFAULT_LONGEST_CALL_SECONDS) + 5;

  const env: k8s.types.input.core.v1.EnvVar[] = [
    ...Object.entries(workload.env).map(([name, value]) => ({ name, value })),
    ...(p.hfTokenSecretName
      ? workload.hfTokenEnv.map((name) => ({
          name,
          valueFrom: { secretKeyRef: { name: p.hfTokenSecretName!, key: HF_TOKEN_SECRET_KEY } },
        }))
      : []),
  ];
  const volumeMounts = [
    { name: "model-cache", mountPath: workload.cacheMountPath },
    ...(shmGiB ? [{ name: "dshm", mountPath: "/dev/shm" }] : []),
    ...(p.filesConfigMapName && workload.filesMountPath
      ? [{ name: "engine-files", mountPath: workload.filesMountPath, readOnly: true }]
      : []),
  ];
  const nonRoot = workload.runAsUser !== undefined;
  const containerSecurity: k8s.types.input.core.v1.SecurityContext = {
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    ...(nonRoot ? { runAsNonRoot: true, runAsUser: workload.runAsUser, runAsGroup: workload.runAsUser } : {}),
  };
  const limits: Record<string, string> = { memory };
  if (gpus > 0) limits[GPU_RESOURCE] = String(gpus);
  const requests: Record<string, string> = { cpu, memory };
  if (gpus > 0) requests[GPU_RESOURCE] = String(gpus);

  const engine: Container = {
    name: "engine",
    image: workload.image,
    ...(workload.command ? { command: [...workload.command] } : {}),
    args: [...workload.args],
    env,
    ports: [
      { name: "http", containerPort: workload.port, protocol: "TCP" },
      ...(ctxMetricsPort(p) !== workload.port
        ? [{ name: "metrics", containerPort: ctxMetricsPort(p), protocol: "TCP" }]
        : []),
    ],
    // Never kill a loading pod: liveness and readiness only start once the startup probe has passed.
    startupProbe: probe(workload.startup, {
      periodSeconds: STARTUP_PROBE_PERIOD_SECONDS,
      timeoutSeconds: 5,
      failureThreshold: Math.ceil(budget / STARTUP_PROBE_PERIOD_SECONDS),
    }),
    readinessProbe: probe(workload.readiness, {
      periodSeconds: 5,
      timeoutSeconds: 5,
      failureThreshold: 3,
      successThreshold: 1,
    }),
    livenessProbe: probe(
      workload.liveness,
      workload.livenessTiming ?? { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
    ),
    lifecycle: { preStop: { exec: { command: ["sleep", String(PRE_STOP_SLEEP_SECONDS)] } } },
    resources: { requests, limits },
    securityContext: containerSecurity,
    volumeMounts,
  };

  const sidecars: Container[] = (workload.sidecars ?? []).map((s) => ({
    name: s.name,
    image: s.image,
    command: [...s.command],
    ...(s.args ? { args: [...s.args] } : {}),
    env: Object.entries(s.env ?? {}).map(([name, value]) => ({ name, value })),
    resources: {
      requests: { cpu: s.resources.cpu, memory: s.resources.memory },
      limits: { memory: s.resources.memory },
    },
    securityContext: containerSecurity,
    volumeMounts: volumeMounts.filter((m) => m.name === "engine-files"),
  }));

  // hostPath directories are created root-owned: a non-root engine gets them chowned first (CHOWN only).
  const initContainers: Container[] = nonRoot
    ? [
        {
          name: "cache-permissions",
          image: BUSYBOX_IMAGE,
          command: ["sh", "-c", `chown -R ${workload.runAsUser}:${workload.runAsUser} ${workload.cacheMountPath}`],
          resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
          securityContext: {
            runAsUser: 0,
            runAsNonRoot: false,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"], add: ["CHOWN", "FOWNER", "DAC_OVERRIDE"] },
          },
          volumeMounts: [{ name: "model-cache", mountPath: workload.cacheMountPath }],
        },
      ]
    : [];

  const volumes: k8s.types.input.core.v1.Volume[] = [
    {
      name: "model-cache",
      hostPath: { path: cacheDirectoryOf(p.namespace ?? MODELS_NAMESPACE, ctx.model.name), type: "DirectoryOrCreate" },
    },
    ...(shmGiB ? [{ name: "dshm", emptyDir: { medium: "Memory", sizeLimit: `${shmGiB}Gi` } }] : []),
    ...(p.filesConfigMapName ? [{ name: "engine-files", configMap: { name: p.filesConfigMapName } }] : []),
  ];

  const spec: PodSpec = {
    containers: [engine, ...sidecars],
    ...(initContainers.length ? { initContainers } : {}),
    volumes,
    terminationGracePeriodSeconds: grace,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: {
      seccompProfile: { type: "RuntimeDefault" },
      ...(nonRoot ? { fsGroup: workload.runAsUser } : {}),
    },
    ...placement(p),
  };
  return {
    spec,
    engine,
    startupBudgetSeconds: budget,
    terminationGracePeriodSeconds: grace,
    resources: { cpu, memory, gpus },
  };
}

/** The metrics port comes from the adapter's metrics declaration (may equal the HTTP port). */
function ctxMetricsPort(p: PodInputs): number {
  return p.metricsPort ?? p.workload.port;
}

function placement(p: PodInputs): Pick<PodSpec, "tolerations" | "affinity" | "topologySpreadConstraints"> {
  const { ctx } = p;
  const whenUnsatisfiable = p.strictSpread ? "DoNotSchedule" : "ScheduleAnyway";
  const topologySpreadConstraints = [
    {
      maxSkew: 1,
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable,
      labelSelector: { matchLabels: p.podLabels },
    },
    {
      maxSkew: 1,
      topologyKey: "kubernetes.io/hostname",
      whenUnsatisfiable,
      labelSelector: { matchLabels: p.podLabels },
    },
  ];
  if (!ctx.gpu || !p.nodeGroup) return { topologySpreadConstraints };
  const nodeLabels = p.gpuNodeLabels ?? {
    [NODE_GROUP_LABEL]: p.nodeGroup,
    [GPU_CLASS_LABEL]: ctx.gpu.instance.gpuClass,
  };
  return {
    tolerations: [{ key: GPU_TAINT.key, operator: "Equal", value: GPU_TAINT.value, effect: GPU_TAINT.effect }],
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: Object.entries(nodeLabels).map(([key, value]) => ({
                key,
                operator: "In",
                values: [value],
              })),
            },
          ],
        },
      },
    },
    topologySpreadConstraints,
  };
}
