import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { derivedChild, standardLabels } from "../k8s/meta";
import { DASHBOARD_FOLDER, DASHBOARD_FOLDER_ANNOTATION, DASHBOARD_LABEL } from "./helm-values";

/** One Grafana dashboard as the ConfigMap Grafana's sidecar loads (its label) into our folder (its annotation). */
export function dashboardConfigMap(
  /** The creating component's name: the resource name derives from it (`<component>-dashboard-<uid>`). */
  component: string,
  dashboard: { readonly uid?: string },
  namespace: string,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.ConfigMap {
  const name = `dashboard-${dashboard.uid}`;
  const child = derivedChild(component, name, name);
  return new k8s.core.v1.ConfigMap(
    child.name,
    {
      metadata: {
        name,
        namespace,
        labels: standardLabels("grafana-dashboard", "observability", { [DASHBOARD_LABEL.key]: DASHBOARD_LABEL.value }),
        annotations: { [DASHBOARD_FOLDER_ANNOTATION]: DASHBOARD_FOLDER },
      },
      data: { [`${dashboard.uid}.json`]: JSON.stringify(dashboard) },
    },
    { ...opts, ...child.opts },
  );
}
