import type { RecordedResource, ResourceOptionsRecord } from "./offline";
import type { K8sObject } from "./validate";
import { redactSecrets } from "./redact";

export interface HelmReleaseSummary {
  readonly resourceName: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly chart: string;
  readonly version?: string;
  readonly repo?: string;
  readonly values: unknown;
}

export interface RenderedPlan {
  /** Every Kubernetes object, secrets redacted. */
  readonly objects: K8sObject[];
  readonly helmReleases: HelmReleaseSummary[];
  /** Every Pulumi resource: type, name, parent, options, inputs (secrets redacted, references as URNs). */
  readonly resources: PlannedResource[];
}

export interface PlannedResource {
  type: string;
  name: string;
  urn: string;
  parent?: string;
  /** Always written by renderPlan; optional for hand-built plans in tests. */
  options?: ResourceOptionsRecord;
  inputs: unknown;
}

const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";
const isK8sObject = (r: RecordedResource) =>
  r.custom && r.type.startsWith("kubernetes:") && r.type !== HELM_RELEASE && !r.type.startsWith("pulumi:providers:");

export function renderPlan(resources: readonly RecordedResource[]): RenderedPlan {
  const objects: K8sObject[] = [];
  const helmReleases: HelmReleaseSummary[] = [];
  const urns = new Map(resources.map((r) => [`${r.type}::${r.name}`, r.urn]));
  const urnOf = (type: string, name: string) => urns.get(`${type}::${name}`);
  const redacted = new Map(resources.map((r) => [r, redactSecrets(r.inputs, urnOf) as Record<string, unknown>]));
  for (const r of resources) {
    const inputs = redacted.get(r)!;
    if (r.type === HELM_RELEASE) {
      const repo = (inputs.repositoryOpts as { repo?: string } | undefined)?.repo;
      helmReleases.push({
        resourceName: r.name,
        name: inputs.name as string | undefined,
        namespace: inputs.namespace as string | undefined,
        chart: String(inputs.chart),
        version: inputs.version as string | undefined,
        repo,
        values: inputs.values ?? {},
      });
    } else if (isK8sObject(r)) {
      const metadata = { ...((inputs.metadata as object) ?? {}) } as K8sObject["metadata"];
      if (metadata && !metadata.name) metadata.name = r.name;
      objects.push({ ...inputs, metadata } as K8sObject);
    }
  }
  return {
    objects,
    helmReleases,
    resources: resources.map((r) => ({
      type: r.type,
      name: r.name,
      urn: r.urn,
      parent: r.parentUrn,
      options: r.options,
      inputs: redacted.get(r)!,
    })),
  };
}

/** A stable file name for an object: <namespace or _cluster>/<kind>-<name>.yaml */
export function manifestPath(obj: K8sObject): string {
  const ns = obj.metadata?.namespace ?? "_cluster";
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, "_");
  return `${safe(ns)}/${safe(obj.kind.toLowerCase())}-${safe(obj.metadata?.name ?? "unnamed")}.yaml`;
}
