import type * as k8s from "@pulumi/kubernetes";
import type { ModelConfig } from "../config/serving";
import type { EngineWorkload } from "./engines/types";
import type { PodPlan } from "./pod";
import { IMAGE_PULL_SECONDS, NODE_PROVISION_SECONDS } from "./autoscaling";

type Container = k8s.types.input.core.v1.Container;

/**
 * Pulumi waits for a custom resource only when told how (pulumi-kubernetes >= 4.18: the `pulumi.com/waitFor`
 * annotation, e.g. "condition=Ready"; maintainers in pulumi/pulumi-kubernetes #3318 and the await-logic blog post
 * pulumi/docs #12454, read 2026-12-01). Without it an InferenceService counts as created at once, its customTimeouts
 * mean nothing and dependents (the verification) start against a model that is still loading.
 */
const PULUMI_WAIT_FOR = "pulumi.com/waitFor";

/** Slack on top of the model's own budget before Pulumi gives up waiting (API latency, probe periods, readiness). */
const AWAIT_MARGIN_SECONDS = 300;

/**
 * How long one new pod of a model may take to become ready: a GPU node to join (the cluster-autoscaler's
 * provision limit, as dev GPU groups start from zero), the engine image pull, and the model's startup budget
 * (what its startupProbe allows). CPU models get no node provisioning time.
 */
export function podReadySeconds(pod: Pick<PodPlan, "startupBudgetSeconds" | "resources">): number {
  return (pod.resources.gpus > 0 ? NODE_PROVISION_SECONDS : 0) + IMAGE_PULL_SECONDS + pod.startupBudgetSeconds;
}

/**
 * Pulumi's wait for the workload (its default is 10 minutes, shorter than a large model's startup): a create starts
 * every replica at once, so one pod's budget; a RollingUpdate with maxSurge 1 replaces pods one after another, so an
 * update may take one pod budget per replica (replicas.max, as KEDA may have scaled up). Plus AWAIT_MARGIN_SECONDS.
 */
export function awaitTimeouts(
  model: Pick<ModelConfig, "replicas">,
  pod: Pick<PodPlan, "startupBudgetSeconds" | "resources">,
  rolling: boolean,
): { create: string; update: string } {
  const one = podReadySeconds(pod);
  const rollouts = rolling ? Math.max(1, model.replicas.max, model.replicas.min) : 1;
  return { create: `${one + AWAIT_MARGIN_SECONDS}s`, update: `${one * rollouts + AWAIT_MARGIN_SECONDS}s` };
}

export interface WorkloadInputs {
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Record<string, string> };
  readonly selector: Readonly<Record<string, string>>;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly replicas: number;
  readonly maxReplicas: number;
  readonly strategy: Record<string, unknown>;
  readonly pod: PodPlan;
}

/** The model's Deployment. Pure. */
export function planDeployment(i: WorkloadInputs) {
  return {
    metadata: { ...i.metadata },
    spec: {
      replicas: i.replicas,
      selector: { matchLabels: { ...i.selector } },
      strategy: i.strategy,
      // A pod counts as available only after staying ready for a few probe periods.
      minReadySeconds: 10,
      // No progress while a pod waits for a node, its image and its model is expected: the same budget as Pulumi's.
      progressDeadlineSeconds: podReadySeconds(i.pod),
      revisionHistoryLimit: 5,
      template: { metadata: { labels: { ...i.podLabels } }, spec: i.pod.spec },
    },
  };
}

/**
 * The KServe InferenceService of a model: the predictor takes the planned pod (the engine container becomes the
 * predictor's `model`, other containers stay sidecars). Pure.
 */
export function planInferenceService(
  i: WorkloadInputs,
  isvc: NonNullable<EngineWorkload["inferenceService"]>,
): Record<string, unknown> {
  const { containers, ...podRest } = i.pod.spec;
  const [engine, ...sidecars] = containers as Container[];
  const { name: _name, image, ...modelContainer } = engine!;
  void _name;
  return {
    apiVersion: "serving.kserve.io/v1beta1",
    kind: "InferenceService",
    metadata: { ...i.metadata, annotations: { ...isvc.annotations, [PULUMI_WAIT_FOR]: "condition=Ready" } },
    spec: {
      predictor: {
        minReplicas: i.replicas,
        maxReplicas: Math.max(i.replicas, i.maxReplicas),
        labels: { ...i.podLabels },
        deploymentStrategy: i.strategy,
        ...podRest,
        ...(sidecars.length ? { containers: sidecars } : {}),
        model: {
          modelFormat: { name: isvc.modelFormat },
          ...(isvc.runtime ? { runtime: isvc.runtime } : {}),
          ...(isvc.protocolVersion ? { protocolVersion: isvc.protocolVersion } : {}),
          // The runtime's image, pinned here instead of the ServingRuntime's moving default.
          image,
          ...modelContainer,
        },
      },
    },
  };
}

/**
 * Fields Pulumi sets at creation only once KEDA scales the model. A Deployment's `spec.replicas` is KEDA's. An
 * InferenceService has none: KEDA scales the predictor Deployment KServe creates (not a Pulumi resource), and with
 * autoscalerClass external KServe drops `replicas` from its updates of that Deployment
 * (pkg/controller/v1beta1/inferenceservice/reconcilers/deployment/deployment_reconciler.go at v0.20.0, read
 * 2026-12-07), so a changed replicas.min reaches the InferenceService and the ScaledObject without touching the
 * running replica count.
 */
export function autoscaledIgnoreChanges(kind: "Deployment" | "InferenceService"): string[] {
  return kind === "Deployment" ? ["spec.replicas"] : [];
}
