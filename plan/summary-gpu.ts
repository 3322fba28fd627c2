import { clusterBaseCost, type MinMax } from "../components/cluster/capacity";
import { CLUSTER_AUTOSCALER_CHART, CLUSTER_AUTOSCALER_IMAGE_TAGS } from "../components/cluster/autoscaler";
import {
  LBC_CLUSTER_TAG,
  LOAD_BALANCER_CONTROLLER_CHART,
  LOAD_BALANCER_CONTROLLER_REPLICAS,
} from "../components/cluster/load-balancer-controller";
import type { SummarySection } from "./summary";
import { markdownTable } from "./markdown";
import { groupMinimum, stackCost, usd } from "./cost";

const table = markdownTable;

const range = (r: MinMax, f: (x: number) => string = String) =>
  r.min === r.max ? f(r.min) : `${f(r.min)}–${f(r.max)}`;

/** plan.md "GPUs and cost": per GPU node group and in total, GPUs and USD/month at minimum and maximum scale. */
export const gpuSummary: SummarySection = ({ config }) => {
  const { cluster } = config;
  const cost = stackCost(config);
  const { groups } = cost;
  const lines: string[] = ["## GPUs and cost"];

  if (cluster.mode === "eks") {
    const scaleFromZero = groups.filter((g) => g.nodes.min === 0).map((g) => `\`${g.nodeGroup}\``);
    lines.push(
      "",
      `- EKS \`${cluster.name}\` ${cluster.kubernetesVersion} in ${cluster.region}, ${cluster.availabilityZones.length} zone(s): ${cluster.availabilityZones.join(", ")}; each GPU node group is one managed node group per zone (AMI AL2023 NVIDIA, taint \`nvidia.com/gpu=true:NoSchedule\`).`,
      `- Node autoscaling: ${cluster.nodeAutoscaler} ${CLUSTER_AUTOSCALER_IMAGE_TAGS[cluster.kubernetesVersion] ?? "?"} (chart ${CLUSTER_AUTOSCALER_CHART.version}), balancing zones; scale from zero: ${scaleFromZero.length ? scaleFromZero.join(", ") : "no group has minSize 0"}.`,
      `- Load balancers: AWS Load Balancer Controller ${LOAD_BALANCER_CONTROLLER_CHART.appVersion} (chart ${LOAD_BALANCER_CONTROLLER_CHART.version}), ${LOAD_BALANCER_CONTROLLER_REPLICAS} replicas on the system node group; its IRSA role may create, modify or delete only load balancers, target groups and security groups tagged \`${LBC_CLUSTER_TAG}=${cluster.name}\`.`,
    );
  } else {
    lines.push(
      "",
      `- Existing cluster \`${cluster.name}\`: the stack creates no node groups; the GPU node groups below describe pools that must already exist with the labels and taint of docs/gpu-capacity.md (what the stack does create is under "What \`pulumi up\` creates and needs").`,
    );
  }

  if (groups.length === 0) {
    lines.push("", "No GPU node groups: every model runs on CPU.");
  } else {
    lines.push(
      "",
      table(
        [
          "node group",
          "instance",
          "GPU",
          "capacity",
          "nodes",
          "GPUs",
          "nvidia.com/gpu",
          "requested by models",
          "USD/month",
        ],
        groups.map((g) => [
          `\`${g.nodeGroup}\``,
          g.instanceType,
          `${g.gpuModel} ${g.gpuMemoryGiB} GiB`,
          g.capacityType,
          range(g.nodes),
          range(g.gpus),
          range(g.schedulableGpus),
          g.models.length ? `${range(g.requestedGpus)} (${g.models.join(", ")})` : "0",
          range(g.usdPerMonth, usd) + (g.priceVerified ? "" : " *"),
        ]),
      ),
    );
    lines.push(
      "",
      `**GPUs: ${cost.gpus.min} at minimum scale, ${cost.gpus.max} at maximum; GPU nodes ${usd(cost.gpuUsdPerMonth.min)}–${usd(cost.gpuUsdPerMonth.max)} per month.**`,
    );
    for (const g of groups) {
      const min = groupMinimum(g);
      if (!min.raisedByModels) continue;
      lines.push(
        "",
        `> Note: the models on \`${g.nodeGroup}\` request ${g.requestedGpus.min} nvidia.com/gpu at their minimum replicas, more than its ${g.nodes.min} node(s) at minSize give; the autoscaler keeps ${min.nodes} node(s), about ${usd(min.usdPerMonth)}/month, and the minimum above counts them.`,
      );
    }
    const short = groups.filter((g) => g.requestedGpus.max > g.schedulableGpus.max);
    for (const g of short)
      lines.push(
        "",
        `> Warning: at maximum replicas the models on \`${g.nodeGroup}\` request ${g.requestedGpus.max} nvidia.com/gpu but the group gives at most ${g.schedulableGpus.max}; the last replicas stay Pending.`,
      );
  }

  const base = clusterBaseCost(cluster);
  if (base) {
    const system = base.systemUsdPerMonth;
    lines.push(
      "",
      `- EKS control plane: ${usd(base.controlPlaneUsdPerMonth)}/month; system nodes ${base.systemInstanceType} x ${range(base.systemNodes)}: ${system ? `${range(system, usd)}/month` : "price unknown (not in CPU_INSTANCE_PRICES)"}.`,
      `- **Total compute estimate: ${usd(cost.totalUsdPerMonth.min)} per month at minimum scale, ${usd(cost.totalUsdPerMonth.max)} at maximum** (on-demand, us-east-1, 730 h/month; minimum = the nodes the models' minimum replicas keep; NAT gateways, load balancers, EBS and traffic not included).`,
    );
  }
  if (groups.some((g) => !g.priceVerified || g.capacityType === "SPOT"))
    lines.push(
      "",
      "_* price not verified against a dated source (components/cluster/instances.ts). Spot groups are costed at the on-demand price, an upper bound._",
    );
  return lines.join("\n");
};
