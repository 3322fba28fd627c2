/**
 * GPU instance catalogue for EC2: the instance types a GPU node group may use, what each gives a model, and what
 * it costs. The config rules (sizing, GPU fit), the node-group labels and the plan's cost report all read it.
 *
 * Hardware (GPUs, GPU model and memory, vCPU, memory): Amazon EC2 accelerated-computing instance specifications,
 * checked 2026-11 against public instance tables (torchx `named_resources_aws.py` for g5/g6e, an AWS GPU table for
 * g5/p4d; cluster-autoscaler's generated `ec2_instance_types.go` carries the same GPU counts).
 *
 * Prices: on-demand Linux USD/hour in us-east-1. Verified 2026-11: g5.xlarge $1.006 (EC2 on-demand price tables as
 * quoted in June 2026). Every other price is UNVERIFIED here (from the EC2 on-demand pricing page as last read by
 * the author, 2025); P4d/P5 reflect AWS's June 2025 price cut and are the least certain. Treat plan.md costs as
 * estimates and re-check https://aws.amazon.com/ec2/pricing/on-demand/ before budgeting.
 */
export type GpuModel = "A10G" | "L4" | "L40S" | "A100" | "H100";
export type GpuClass = "a10g" | "l4" | "l40s" | "a100" | "h100";

export interface GpuInstanceType {
  readonly gpus: number;
  readonly gpuModel: GpuModel;
  /** Memory per GPU in GiB (as AWS lists it). */
  readonly gpuMemoryGiB: number;
  readonly vcpu: number;
  readonly memoryGiB: number;
  /** On-demand USD per hour, us-east-1. */
  readonly onDemandUsdPerHour: number;
  /** Whether the price above was verified against a source on the date in the header. */
  readonly priceVerified: boolean;
  /** Supports Multi-Instance GPU partitioning (A100, H100). */
  readonly mig: boolean;
  /** Label value for `retrieval-stack.io/gpu-class` and the TEI image tag family. */
  readonly gpuClass: GpuClass;
}

/** Per GPU model: the `nvidia.com/gpu.product` value GPU feature discovery would set, and the cluster-autoscaler accelerator label. */
export const GPU_MODEL_FACTS: Readonly<Record<GpuModel, { readonly product: string; readonly accelerator: string }>> = {
  // Product names as nvidia-smi reports them with spaces replaced by "-" (GFD's convention).
  A10G: { product: "NVIDIA-A10G", accelerator: "nvidia-a10g" },
  L4: { product: "NVIDIA-L4", accelerator: "nvidia-l4" },
  L40S: { product: "NVIDIA-L40S", accelerator: "nvidia-l40s" },
  A100: { product: "NVIDIA-A100-SXM4-40GB", accelerator: "nvidia-tesla-a100" },
  H100: { product: "NVIDIA-H100-80GB-HBM3", accelerator: "nvidia-h100" },
};

type Row = [name: string, gpus: number, vcpu: number, memoryGiB: number, usdPerHour: number];

function family(
  gpuModel: GpuModel,
  gpuClass: GpuClass,
  gpuMemoryGiB: number,
  mig: boolean,
  rows: Row[],
  verified: readonly string[] = [],
): [string, GpuInstanceType][] {
  return rows.map(([name, gpus, vcpu, memoryGiB, usd]) => [
    name,
    {
      gpus,
      gpuModel,
      gpuMemoryGiB,
      vcpu,
      memoryGiB,
      onDemandUsdPerHour: usd,
      priceVerified: verified.includes(name),
      mig,
      gpuClass,
    },
  ]);
}

export const GPU_INSTANCE_TYPES: Readonly<Record<string, GpuInstanceType>> = Object.fromEntries([
  // g5: NVIDIA A10G, 24 GB.
  ...family(
    "A10G",
    "a10g",
    24,
    false,
    [
      ["g5.xlarge", 1, 4, 16, 1.006],
      ["g5.2xlarge", 1, 8, 32, 1.212],
      ["g5.4xlarge", 1, 16, 64, 1.624],
      ["g5.8xlarge", 1, 32, 128, 2.448],
      ["g5.12xlarge", 4, 48, 192, 5.672],
      ["g5.16xlarge", 1, 64, 256, 4.096],
      ["g5.24xlarge", 4, 96, 384, 8.144],
      ["g5.48xlarge", 8, 192, 768, 16.288],
    ],
    ["g5.xlarge"],
  ),
  // g6: NVIDIA L4, 24 GB.
  ...family("L4", "l4", 24, false, [
    ["g6.xlarge", 1, 4, 16, 0.8048],
    ["g6.2xlarge", 1, 8, 32, 0.9776],
    ["g6.4xlarge", 1, 16, 64, 1.3232],
    ["g6.8xlarge", 1, 32, 128, 2.0144],
    ["g6.12xlarge", 4, 48, 192, 4.6016],
    ["g6.16xlarge", 1, 64, 256, 3.3968],
    ["g6.24xlarge", 4, 96, 384, 6.6752],
    ["g6.48xlarge", 8, 192, 768, 13.3504],
  ]),
  // g6e: NVIDIA L40S, 48 GB.
  ...family("L40S", "l40s", 48, false, [
    ["g6e.xlarge", 1, 4, 32, 1.861],
    ["g6e.2xlarge", 1, 8, 64, 2.24208],
    ["g6e.4xlarge", 1, 16, 128, 3.00424],
    ["g6e.8xlarge", 1, 32, 256, 4.52856],
    ["g6e.12xlarge", 4, 48, 384, 10.49264],
    ["g6e.16xlarge", 1, 64, 512, 7.57719],
    ["g6e.24xlarge", 4, 96, 768, 15.06559],
    ["g6e.48xlarge", 8, 192, 1536, 30.13118],
  ]),
  // p4d: 8 x NVIDIA A100 40 GB (SXM4, NVLink). Price after the June 2025 cut (was $32.77): unverified.
  ...family("A100", "a100", 40, true, [["p4d.24xlarge", 8, 96, 1152, 21.96]]),
  // p5: NVIDIA H100 80 GB. p5.48xlarge after the June 2025 cut (was $98.32); p5.4xlarge (1 GPU, 2025): both unverified.
  ...family("H100", "h100", 80, true, [
    ["p5.4xlarge", 1, 16, 256, 6.88],
    ["p5.48xlarge", 8, 192, 2048, 55.04],
  ]),
]);

export function lookupInstanceType(name: string): GpuInstanceType | undefined {
  return GPU_INSTANCE_TYPES[name];
}

/**
 * The GPU instance a node group schedules models on: the catalogue entry of its first instance type (the config
 * rules refuse groups that mix GPU models or counts): the one lookup of a group's GPU instance.
 */
export function gpuInstanceOf(
  group: { readonly instanceTypes: readonly string[] } | undefined,
): GpuInstanceType | undefined {
  return group ? lookupInstanceType(group.instanceTypes[0] ?? "") : undefined;
}

/**
 * On-demand USD/hour in us-east-1 of the CPU instance types a system node group commonly uses. UNVERIFIED (EC2
 * on-demand pricing page as last read by the author, 2025); a type missing here is shown as "price unknown".
 */
export const CPU_INSTANCE_PRICES: Readonly<Record<string, number>> = {
  "m5.large": 0.096,
  "m5.xlarge": 0.192,
  "m6i.large": 0.096,
  "m6i.xlarge": 0.192,
  "m7i.large": 0.1008,
  "m7i.xlarge": 0.2016,
  "m7i.2xlarge": 0.4032,
};

/** EKS control plane, standard support: USD 0.10 per cluster-hour (Amazon EKS pricing; extended support costs 0.60). */
export const EKS_CONTROL_PLANE_USD_PER_HOUR = 0.1;

/** Hours in an average month (8760 / 12), the convention of the AWS pricing calculator. */
export const HOURS_PER_MONTH = 730;
