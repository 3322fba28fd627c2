import { EKS_KUBERNETES_VERSIONS, KUBERNETES_SUPPORT_WARNING_DAYS, type EksKubernetesVersion } from "../versions";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whole days from `today` (UTC day) to the last day of standard support; negative once it has passed. */
function daysOfStandardSupportLeft(version: EksKubernetesVersion, today: Date): number {
  const end = Date.parse(`${version.endOfStandardSupport}T00:00:00Z`);
  const start = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  return Math.round((end - start) / DAY_MS);
}

/**
 * The plan warning for an EKS cluster's Kubernetes version (components/versions.ts EKS_KUBERNETES_VERSIONS), or
 * undefined while it has more than KUBERNETES_SUPPORT_WARNING_DAYS of standard support left. `today` is a
 * parameter so that the warning is testable; the plan passes the current date.
 */
export function kubernetesSupportWarning(minor: string, today: Date): string | undefined {
  const version = EKS_KUBERNETES_VERSIONS[minor];
  if (!version) return undefined; // the config rules refuse it before a plan exists
  const left = daysOfStandardSupportLeft(version, today);
  if (left > KUBERNETES_SUPPORT_WARNING_DAYS) return undefined;
  const supported = Object.entries(EKS_KUBERNETES_VERSIONS)
    .filter(([, v]) => daysOfStandardSupportLeft(v, today) > KUBERNETES_SUPPORT_WARNING_DAYS)
    .map(([m]) => `"${m}"`);
  const fix = supported.length
    ? `Fix: set cluster.kubernetesVersion to ${supported.join(" or ")} (EKS upgrades one minor version at a time).`
    : "Fix: no pinned version has more than 60 days left: add the newest EKS version with its cluster-autoscaler to components/versions.ts.";
  const when =
    left < 0
      ? `left EKS standard support on ${version.endOfStandardSupport} (${-left} days ago): the cluster is billed for extended support and is upgraded automatically when that ends`
      : `leaves EKS standard support on ${version.endOfStandardSupport} (in ${left} days); after that it is billed for extended support`;
  return `Kubernetes ${minor} ${when}. ${fix}`;
}
