/**
 * GPU instance catalogue for EC2 (the instance types a GPU node group may use).
 * Source: aws.amazon.com/ec2/instance-types (g5, g6, g6e, p4d, p5) and on-demand Linux prices in us-east-1,
 * read 2026-11 (prices change: treat the monthly figures in plan.md as estimates).
 */
export interface GpuInstanceType {
  readonly gpus: number;
  readonly gpuModel: "A10G" | "L4" | "L40S" | "A100" | "H100";
  /** Memory per GPU in GiB. */
  readonly gpuMemoryGiB: number;
  readonly vcpu: number;
  readonly memoryGiB: number;
  /** On-demand USD per hour, us-east-1. */
  readonly onDemandUsdPerHour: number;
  /** Supports Multi-Instance GPU partitioning. */
  readonly mig: boolean;
  /** Label value for `retrieval-stack.io/gpu-class` and the TEI image tag family. */
  readonly gpuClass: "a10g" | "l4" | "l40s" | "a100" | "h100";
}

export const GPU_INSTANCE_TYPES: Readonly<Record<string, GpuInstanceType>> = {
  "g5.xlarge": { gpus: 1, gpuModel: "A10G", gpuMemoryGiB: 24, vcpu: 4, memoryGiB: 16, onDemandUsdPerHour: 1.006, mig: false, gpuClass: "a10g" },
  "g5.2xlarge": { gpus: 1, gpuModel: "A10G", gpuMemoryGiB: 24, vcpu: 8, memoryGiB: 32, onDemandUsdPerHour: 1.212, mig: false, gpuClass: "a10g" },
  "g6.xlarge": { gpus: 1, gpuModel: "L4", gpuMemoryGiB: 24, vcpu: 4, memoryGiB: 16, onDemandUsdPerHour: 0.8048, mig: false, gpuClass: "l4" },
  "g6.2xlarge": { gpus: 1, gpuModel: "L4", gpuMemoryGiB: 24, vcpu: 8, memoryGiB: 32, onDemandUsdPerHour: 0.9776, mig: false, gpuClass: "l4" },
  "g6e.xlarge": { gpus: 1, gpuModel: "L40S", gpuMemoryGiB: 48, vcpu: 4, memoryGiB: 32, onDemandUsdPerHour: 1.861, mig: false, gpuClass: "l40s" },
  "g6e.2xlarge": { gpus: 1, gpuModel: "L40S", gpuMemoryGiB: 48, vcpu: 8, memoryGiB: 64, onDemandUsdPerHour: 2.24208, mig: false, gpuClass: "l40s" },
};

export function lookupInstanceType(name: string): GpuInstanceType | undefined {
  return GPU_INSTANCE_TYPES[name];
}
