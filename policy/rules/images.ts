import { asString, containersOf, describe, isHelmRelease, podTemplatesOf, stringsIn } from "./k8s";
import type { ResourceRule } from "./types";

/** Tags that name a moving target rather than a build (compare PinnedTag in components/config/common.ts). */
const MOVING_TAGS = new Set(["latest", "main", "master", "nightly", "edge", "dev"]);

/**
 * Why an image reference is not pinned, or undefined when it is: a digest (`@sha256:...`) or a fixed tag.
 * `nginx` (no tag, so `latest`), `vllm/vllm-openai:latest` and `x:nightly` are not pinned.
 */
export function unpinnedImageReason(image: string): string | undefined {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  if (image.includes("@")) return "has a malformed digest (expected @sha256:<64 hex>)";
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  if (colon < 0) return "has no tag, so it pulls whatever `latest` is at the time";
  const tag = lastSegment.slice(colon + 1);
  if (tag === "") return "has an empty tag";
  if (MOVING_TAGS.has(tag) || tag.endsWith("-latest")) return `uses the moving tag "${tag}"`;
  return undefined;
}

export const imagesArePinned: ResourceRule = {
  scope: "resource",
  name: "images-pinned",
  description:
    "Every container image (and every image in our Helm values) names a fixed release tag or a digest; no `latest`, no missing tag.",
  enforcementLevel: "mandatory",
  rationale:
    "A moving tag makes replicas of one Deployment run different builds and makes a rollback pull the new build again; engines change metric names and flags between releases, which silently breaks alerts and dashboards.",
  remediation: 'Pin the image to a release tag (e.g. "vllm/vllm-openai:v0.11.0") or a digest (image@sha256:...).',
  validate(resource) {
    const out: string[] = [];
    for (const t of podTemplatesOf(resource)) {
      for (const c of containersOf(t)) {
        const image = asString(c.container.image);
        // A KServe model takes its image from the ServingRuntime, which is checked on its own.
        if (image === undefined) {
          if (c.role !== "model") out.push(`${describe(resource)} container "${c.name}" (${c.path}) has no image.`);
          continue;
        }
        const why = unpinnedImageReason(image);
        if (why) out.push(`${describe(resource)} container "${c.name}" image "${image}" ${why}.`);
      }
    }
    if (isHelmRelease(resource)) {
      for (const [path, value] of stringsIn(resource.props.values, "values")) {
        const key = path.slice(path.lastIndexOf(".") + 1);
        if (key === "tag" && (MOVING_TAGS.has(value) || value.endsWith("-latest")))
          out.push(`${describe(resource)} sets ${path} to the moving tag "${value}".`);
        if (key === "image" && /:latest$/.test(value))
          out.push(`${describe(resource)} sets ${path} to "${value}", a moving tag.`);
      }
    }
    return out;
  },
};

/** Exact chart versions: "1.2.3", "v1.2.3", "1.2.3-rc.1"; not ranges such as "^1.2", "~1", "1.x", "*" or "". */
export const isExactChartVersion = (v: unknown): boolean =>
  typeof v === "string" && /^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(v);

export const helmChartsArePinned: ResourceRule = {
  scope: "resource",
  name: "helm-charts-pinned",
  description: "Every Helm release names an exact chart version.",
  enforcementLevel: "mandatory",
  rationale:
    "Without a version Helm installs whatever the repository serves that day: two `pulumi up` of the same commit deploy different charts.",
  remediation: 'Set `version` on the release to the exact chart version you tested (e.g. "4.13.3").',
  validate(resource) {
    if (!isHelmRelease(resource)) return [];
    const version = resource.props.version;
    if (isExactChartVersion(version)) return [];
    return [
      `${describe(resource)} (chart ${String(resource.props.chart)}) has ${version === undefined ? "no version" : `version ${JSON.stringify(version)}, not an exact version`}.`,
    ];
  },
};
