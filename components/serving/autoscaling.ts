import type { ModelConfig } from "../config/serving";
import type { EngineMetrics } from "./engines/types";
import { PROMETHEUS_URL } from "../k8s/namespaces";

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
 */
export interface ScalingPlan {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly scaleUpPeriodSeconds: number;
  readonly scaleDownWindowSeconds: number;
  readonly triggers: readonly PrometheusTrigger[];
}

export interface PrometheusTrigger {
  readonly name: string;
  readonly query: string;
  /** Per-replica target (AverageValue). */
  readonly threshold: number;
  /** Above this the model is woken from zero replicas. */
  readonly activationThreshold?: number;
}

export const KEDA_POLLING_SECONDS = 15;
/** HPA limits: periodSeconds <= 1800, stabilizationWindowSeconds <= 3600 (autoscaling/v2 API reference). */
const MAX_PERIOD = 1800;
const MAX_WINDOW = 3600;

export interface ScalingInputs {
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
  if (metrics.queueDepth) triggers.push({ name: "queue-depth", query: metrics.queueDepth(selector), threshold: model.autoscaling.queueDepthPerReplica });
  triggers.push({ name: "in-flight", query: metrics.inFlight(selector), threshold: model.autoscaling.inFlightPerReplica });
  // With zero replicas the engine exports nothing: only an outside demand signal can wake the model.
  const canScaleToZero = model.replicas.min === 0 && i.demandQuery !== undefined;
  if (canScaleToZero) triggers.push({ name: "demand", query: i.demandQuery!, threshold: model.autoscaling.inFlightPerReplica, activationThreshold: 0 });
  return {
    minReplicas: canScaleToZero ? 0 : Math.max(1, model.replicas.min),
    maxReplicas: Math.max(1, model.replicas.max),
    scaleUpPeriodSeconds: Math.min(MAX_PERIOD, Math.max(60, i.coldStartSeconds)),
    scaleDownWindowSeconds: Math.min(MAX_WINDOW, Math.max(300, i.coldStartSeconds)),
    triggers,
  };
}

/** The ScaledObject spec (keda.sh/v1alpha1) for a plan and a Deployment name. */
export function scaledObjectSpec(plan: ScalingPlan, deploymentName: string): Record<string, unknown> {
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deploymentName },
    pollingInterval: KEDA_POLLING_SECONDS,
    // Time without activity before scaling to zero (only used when minReplicaCount is 0).
    cooldownPeriod: plan.scaleDownWindowSeconds,
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
    triggers: plan.triggers.map((t) => ({
      type: "prometheus",
      name: t.name,
      metricType: "AverageValue",
      metadata: {
        serverAddress: PROMETHEUS_URL,
        query: t.query,
        threshold: String(t.threshold),
        ...(t.activationThreshold !== undefined ? { activationThreshold: String(t.activationThreshold) } : {}),
        // No series (e.g. a queue that was never used) means no load, not an error.
        ignoreNullValues: "true",
      },
    })),
  };
}
