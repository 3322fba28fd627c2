import type { ActiveHours, ModelConfig } from "../config/serving";
import type { EngineMetrics } from "./engines/types";
import { PROMETHEUS_URL, VERIFIER_POD_LABEL } from "../k8s/namespaces";

/**
 * KEDA ScaledObject for one model (our default over HPA + prometheus-adapter: KEDA's Prometheus trigger reads
 * the adapter's PromQL directly, one object per model, no cluster-wide adapter rules to keep in sync, and it can
 * scale to zero, which HPA cannot). Two triggers, queue depth and in-flight requests, each with its per-replica
 * target; the HPA KEDA creates takes the larger proposal.
 *
 * Stabilised to the cold start: a new replica takes `coldStartSeconds` to answer, during which the load it is
 * meant to absorb stays on the others and the metrics stay high. Scale-up therefore adds at most one pod or
 * doubles per cold-start period (whichever is more), and scale-down waits at least a cold start before removing
 * a replica that would take that long to come back.
 *
 * Scale to zero (replicas.min 0) needs a signal that exists while no pod runs: the engine's own metrics vanish
 * with its last pod. Two are supported: a working-hours schedule (autoscaling.activeHours, KEDA's cron trigger:
 * one replica from start to end, zero outside once every trigger has been idle for cooldownPeriod), and, for
 * library users, a `demandQuery` on demand seen outside the engine (e.g. a gateway's request rate).
 * Every scale-to-zero model also counts the post-deploy verifier's pods as demand (see VerifierTrigger), so a
 * `pulumi up` outside the working hours wakes the models it verifies.
 */
export interface ScalingPlan {
  /** minReplicaCount: 0 lets KEDA scale to zero (it does, itself, after cooldownPeriod with every trigger idle). */
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly scaleUpPeriodSeconds: number;
  readonly scaleDownWindowSeconds: number;
  readonly triggers: readonly PrometheusTrigger[];
  /** Working hours (KEDA cron trigger): at least `replicas` from start to end. */
  readonly schedule?: ScheduleTrigger;
  /**
   * KEDA initialCooldownPeriod for a scale-to-zero model: how long a newly created ScaledObject leaves the first
   * replica up before it may go to zero, so that a first deploy outside the working hours still brings the model
   * up for the post-deploy verification.
   */
  readonly initialCooldownSeconds?: number;
  /** Scale-to-zero models only: one replica while a verification pod exists. */
  readonly verifier?: VerifierTrigger;
}

/**
 * KEDA's kubernetes-workload trigger on the verification Job's pods (keda.sh/docs/latest/scalers/kubernetes-workload,
 * same text since 2.8, and kedacore/keda pkg/scalers/kubernetes_workload_scaler.go, read 2026-11): it lists the pods matching `podSelector` in the
 * ScaledObject's own namespace (the verifier runs in the models' namespace, VERIFICATION_NAMESPACE), counting
 * every pod except those in phase Succeeded or Failed, i.e. Pending and Running ones. Active while the count is
 * above `activationValue` (0: one verifier pod wakes the model from zero); the HPA then asks for
 * count / `value` replicas (1 per verifier pod). A finished Job's pod is Succeeded or Failed and stops counting
 * at once, so it cannot keep the model awake: no ttlSecondsAfterFinished needed (and none wanted: Pulumi owns
 * the Job, which records the verdict). KEDA lists pods with its own identity: no extra RBAC.
 */
interface VerifierTrigger {
  readonly name: string;
  readonly podSelector: string;
  readonly value: number;
  readonly activationValue: number;
}

/** The selector of the verifier's pods (the label the Job's pod template carries). */
const VERIFIER_POD_SELECTOR = `${VERIFIER_POD_LABEL}=true`;

interface ScheduleTrigger extends ActiveHours {
  readonly name: string;
  /** desiredReplicas in the window: one; the queue and in-flight triggers add more (the HPA takes the maximum). */
  readonly replicas: number;
}

interface PrometheusTrigger {
  readonly name: string;
  readonly query: string;
  /** Per-replica target (AverageValue). */
  readonly threshold: number;
  /** Above this the model is woken from zero replicas. */
  readonly activationThreshold?: number;
}

export const KEDA_POLLING_SECONDS = 15;
/** Time a fresh scale-to-zero model stays up after its ScaledObject is created, beyond its cold start. */
const FIRST_DEPLOY_UP_SECONDS = 1800;
/**
 * Time for a node to join when a model scales up from zero onto a node group with no free GPU: the
 * cluster-autoscaler's max-node-provision-time (components/cluster/autoscaler.ts, "20m"; GPU nodes with the
 * NVIDIA AMI take several minutes to join and advertise nvidia.com/gpu), beyond which it gives up on the node.
 */
export const NODE_PROVISION_SECONDS = 1200;
/** Pulling an engine image (several GB for vLLM/SGLang) onto a fresh node, before the startup probe's budget starts. */
export const IMAGE_PULL_SECONDS = 300;

/**
 * Longest a scale-to-zero model may take from new demand (e.g. the verifier's pod) to answering: KEDA's next
 * poll, a new node, the image pull and the model's own startup budget (its startupProbe allowance).
 */
export function scaleFromZeroSeconds(startupBudgetSeconds: number): number {
  return KEDA_POLLING_SECONDS + NODE_PROVISION_SECONDS + IMAGE_PULL_SECONDS + startupBudgetSeconds;
}

/** HPA limits: periodSeconds <= 1800, stabilizationWindowSeconds <= 3600 (autoscaling/v2 API reference). */
const MAX_PERIOD = 1800;
const MAX_WINDOW = 3600;

interface ScalingInputs {
  readonly model: ModelConfig;
  readonly metrics: EngineMetrics;
  readonly selector: string;
  readonly coldStartSeconds: number;
  /** PromQL for demand seen outside the engine (e.g. the gateway's request rate): the only way to wake from zero. */
  readonly demandQuery?: string;
}

export function planScaling(i: ScalingInputs): ScalingPlan {
  const { model, metrics, selector } = i;
  const triggers: PrometheusTrigger[] = [];
  if (metrics.queueDepth)
    triggers.push({
      name: "queue-depth",
      query: metrics.queueDepth(selector),
      threshold: model.autoscaling.queueDepthPerReplica,
    });
  triggers.push({
    name: "in-flight",
    query: metrics.inFlight(selector),
    threshold: model.autoscaling.inFlightPerReplica,
  });
  // With zero replicas the engine exports nothing: only a schedule or an outside demand signal can wake the model.
  const hours = model.autoscaling.activeHours;
  const canScaleToZero = model.replicas.min === 0 && (i.demandQuery !== undefined || hours !== undefined);
  if (canScaleToZero && i.demandQuery !== undefined)
    triggers.push({
      name: "demand",
      query: i.demandQuery,
      threshold: model.autoscaling.inFlightPerReplica,
      activationThreshold: 0,
    });
  const schedule =
    canScaleToZero && hours
      ? { name: "active-hours", timezone: hours.timezone, start: hours.start, end: hours.end, replicas: 1 }
      : undefined;
  return {
    minReplicas: canScaleToZero ? 0 : Math.max(1, model.replicas.min),
    maxReplicas: Math.max(1, model.replicas.max),
    scaleUpPeriodSeconds: Math.min(MAX_PERIOD, Math.max(60, i.coldStartSeconds)),
    scaleDownWindowSeconds: Math.min(MAX_WINDOW, Math.max(300, i.coldStartSeconds)),
    triggers,
    ...(schedule ? { schedule } : {}),
    ...(canScaleToZero ? { initialCooldownSeconds: i.coldStartSeconds + FIRST_DEPLOY_UP_SECONDS } : {}),
    ...(canScaleToZero
      ? { verifier: { name: "verifier", podSelector: VERIFIER_POD_SELECTOR, value: 1, activationValue: 0 } }
      : {}),
  };
}

/** The ScaledObject spec (keda.sh/v1alpha1) for a plan and a Deployment name. */
export function scaledObjectSpec(
  plan: ScalingPlan,
  deploymentName: string,
  prometheusUrl: string = PROMETHEUS_URL,
): Record<string, unknown> {
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deploymentName },
    pollingInterval: KEDA_POLLING_SECONDS,
    // Time without activity (every trigger idle) before KEDA scales 1 -> 0; only used when minReplicaCount is 0.
    // idleReplicaCount stays unset: it must be below minReplicaCount, and minReplicaCount 0 already means zero.
    cooldownPeriod: plan.scaleDownWindowSeconds,
    ...(plan.initialCooldownSeconds !== undefined ? { initialCooldownPeriod: plan.initialCooldownSeconds } : {}),
    minReplicaCount: plan.minReplicas,
    maxReplicaCount: plan.maxReplicas,
    advanced: {
      horizontalPodAutoscalerConfig: {
        behavior: {
          scaleUp: {
            stabilizationWindowSeconds: 0,
            selectPolicy: "Max",
            policies: [
              { type: "Pods", value: 1, periodSeconds: plan.scaleUpPeriodSeconds },
              { type: "Percent", value: 100, periodSeconds: plan.scaleUpPeriodSeconds },
            ],
          },
          scaleDown: {
            stabilizationWindowSeconds: plan.scaleDownWindowSeconds,
            selectPolicy: "Min",
            policies: [{ type: "Pods", value: 1, periodSeconds: 120 }],
          },
        },
      },
    },
    triggers: [
      ...plan.triggers.map((t) => ({
        type: "prometheus",
        name: t.name,
        metricType: "AverageValue",
        metadata: {
          serverAddress: prometheusUrl,
          query: t.query,
          threshold: String(t.threshold),
          ...(t.activationThreshold !== undefined ? { activationThreshold: String(t.activationThreshold) } : {}),
          // No series (e.g. a queue that was never used, or no pod at all) means no load, not an error.
          ignoreNullValues: "true",
        },
      })),
      ...(plan.schedule ? [cronTrigger(plan.schedule)] : []),
      ...(plan.verifier ? [workloadTrigger(plan.verifier)] : []),
    ],
  };
}

/**
 * KEDA's cron trigger (keda.sh/docs/2.18/scalers/cron, read 2026-11): active, asking for `desiredReplicas`, from
 * `start` to `end` in `timezone`. Outside the window it is idle, so with minReplicaCount 0 KEDA scales the model
 * to zero once the other triggers are idle too, cooldownPeriod after the last activity (KEDA's documented way
 * to scale to 0 off hours; desiredReplicas 0 would be the documented mistake).
 */
function cronTrigger(s: ScheduleTrigger): Record<string, unknown> {
  return {
    type: "cron",
    name: s.name,
    metadata: { timezone: s.timezone, start: s.start, end: s.end, desiredReplicas: String(s.replicas) },
  };
}

/** The verifier's pods as demand (see VerifierTrigger); metricType AverageValue, the scaler's default. */
function workloadTrigger(t: VerifierTrigger): Record<string, unknown> {
  return {
    type: "kubernetes-workload",
    name: t.name,
    metadata: { podSelector: t.podSelector, value: String(t.value), activationValue: String(t.activationValue) },
  };
}

/**
 * What keeps a model with replicas.min 0 from scaling to zero and back, if anything: KEDA must run (it scales the
 * Deployment), and something must bring the model back, since with no pod the engine exports no metric: a
 * working-hours schedule (autoscaling.activeHours) or a demand query. The component and the config rules word it
 * for their callers (arguments vs stack-file keys).
 */
type ScaleToZeroGap = "no-keda" | "nothing-wakes";
export function scaleToZeroGap(
  model: Pick<ModelConfig, "replicas" | "autoscaling">,
  options: { readonly keda: boolean; readonly demandQuery?: string },
): ScaleToZeroGap[] {
  if (model.replicas.min !== 0) return [];
  const gaps: ScaleToZeroGap[] = [];
  if (!model.autoscaling.activeHours && options.demandQuery === undefined) gaps.push("nothing-wakes");
  if (!options.keda) gaps.push("no-keda");
  return gaps;
}
