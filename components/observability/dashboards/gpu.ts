import type { Dashboard } from "@grafana/schema";
import { NODE_GROUP_LABEL } from "../../k8s/meta";
import { ksmLabel } from "../alert-rules";
import { dashboard, queryVariable, timeseries, type PanelSpec } from "./panels";

/** kube-state-metrics' name for the node-group node label (allow-listed in the chart values). */
const KSM_NODE_GROUP_LABEL = ksmLabel(NODE_GROUP_LABEL);

/**
 * GPU series joined to their node's node group. DCGM series carry the `node` target label (the GPU runtime's
 * ServiceMonitor copies the pod's node name into it); kube_node_labels carries the node group.
 */
function perNodeGroup(metric: string): string {
  return `${metric} * on(node) group_left(${KSM_NODE_GROUP_LABEL}) kube_node_labels{${KSM_NODE_GROUP_LABEL}=~"$node_group"}`;
}

const LEGEND = `{{${KSM_NODE_GROUP_LABEL}}} {{node}} GPU {{gpu}}`;

export function gpuDashboard(): Dashboard {
  const panels: PanelSpec[] = [
    timeseries("GPU utilisation", [{ expr: perNodeGroup("DCGM_FI_DEV_GPU_UTIL"), legend: LEGEND }], {
      unit: "percent",
      min: 0,
      max: 100,
    }),
    timeseries(
      "GPU memory used / total",
      [
        { expr: perNodeGroup("DCGM_FI_DEV_FB_USED"), legend: `used ${LEGEND}` },
        { expr: perNodeGroup("(DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)"), legend: `total ${LEGEND}` },
      ],
      { unit: "decmbytes", min: 0 },
    ),
    timeseries(
      "GPU memory used ratio",
      [{ expr: perNodeGroup("(DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE))"), legend: LEGEND }],
      { unit: "percentunit", min: 0, max: 1 },
    ),
    timeseries("Temperature", [{ expr: perNodeGroup("DCGM_FI_DEV_GPU_TEMP"), legend: LEGEND }], { unit: "celsius" }),
    timeseries("Power", [{ expr: perNodeGroup("DCGM_FI_DEV_POWER_USAGE"), legend: LEGEND }], { unit: "watt", min: 0 }),
    timeseries("Xid errors (last code, 0 = none)", [{ expr: perNodeGroup("DCGM_FI_DEV_XID_ERRORS"), legend: LEGEND }], {
      min: 0,
    }),
    timeseries(
      "GPU utilisation per node group (mean)",
      [
        {
          expr: `avg by (${KSM_NODE_GROUP_LABEL}) (${perNodeGroup("DCGM_FI_DEV_GPU_UTIL")})`,
          legend: `{{${KSM_NODE_GROUP_LABEL}}}`,
        },
      ],
      { unit: "percent", min: 0, max: 100 },
    ),
  ];
  const nodeGroups = queryVariable(
    "node_group",
    "Node group",
    `label_values(kube_node_labels{${KSM_NODE_GROUP_LABEL}!=""}, ${KSM_NODE_GROUP_LABEL})`,
  );
  return dashboard("rs-gpu", "GPUs", ["gpu"], [nodeGroups], panels);
}
