import { profileOf } from "../components/config/environments";
import { MODELS_NAMESPACE } from "../components/k8s/namespaces";
import { adapterFor } from "../components/serving/engines";
import { modelSelector } from "../components/serving/metric-labels";
import { modelContext } from "../components/serving/model-service";
import { planPod } from "../components/serving/pod";
import { planScaling } from "../components/serving/autoscaling";
import type { SummarySection } from "./summary";
import { markdownTable } from "./markdown";

const table = markdownTable;

const minutes = (s: number) => `${Math.round(s / 6) / 10} min`;

/**
 * plan.md "Model serving": per model, what the ModelService decided from the adapter and the catalogue:
 * the workload kind, the pod's resources, the startup budget, the rollout and what KEDA scales on.
 */
export const servingSummary: SummarySection = ({ config }) => {
  const profile = profileOf(config.environment);
  const rows = config.models.map((model) => {
    const gpuNodeGroup = model.gpu ? config.gpuNodeGroups[model.gpu.nodeGroup] : undefined;
    const ctx = modelContext({ model, environment: config.environment, gpuNodeGroup });
    const adapter = adapterFor(model.engine);
    const workload = adapter.workload(ctx);
    const pod = planPod({
      ctx,
      workload,
      nodeGroup: model.gpu?.nodeGroup,
      podLabels: {},
      metricsPort: adapter.metrics.port,
      strictSpread: profile.minReplicasFloor >= 2,
    });
    const scaling = planScaling({
      model,
      metrics: adapter.metrics,
      selector: modelSelector(model.name, MODELS_NAMESPACE),
      coldStartSeconds: pod.startupBudgetSeconds,
    });
    const gpu = ctx.gpu ? `${pod.resources.gpus} x ${ctx.gpu.instance.gpuModel} (${model.gpu!.nodeGroup})` : "CPU";
    return [
      `\`${model.name}\``,
      `${adapter.displayName} ${workload.kind === "InferenceService" ? "InferenceService" : "Deployment"}`,
      gpu,
      `${pod.resources.cpu} CPU / ${pod.resources.memory}`,
      minutes(pod.startupBudgetSeconds),
      profile.rollout === "Recreate" ? "Recreate" : "RollingUpdate 0/+1",
      `${scaling.minReplicas}-${scaling.maxReplicas} on ${scaling.triggers.map((t) => `${t.name} > ${t.threshold}/replica`).join(", ")}` +
        (scaling.schedule
          ? `; 1 replica from \`${scaling.schedule.start}\` to \`${scaling.schedule.end}\` (${scaling.schedule.timezone}), 0 outside`
          : "") +
        (scaling.verifier ? "; woken by the post-deploy verifier's pod" : ""),
    ];
  });
  return [
    "## Model serving",
    "",
    table(["model", "engine / object", "GPU", "requests", "startup budget", "rollout", "KEDA replicas"], rows),
    "",
    `Each model also gets a ClusterIP Service (port 80), a NetworkPolicy (ingress namespace, engine clients, Prometheus), a ServiceMonitor${config.models.some((m) => m.replicas.min >= 2) ? ", a PodDisruptionBudget (replicas >= 2)" : ""} and its weights in the node-local cache. KEDA needs Prometheus: without observability there is no ScaledObject and replicas stay at max(replicas.min, 1).`,
  ].join("\n");
};
