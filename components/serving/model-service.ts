import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { Environment, GpuNodeGroupConfig, ModelConfig } from "../config";

export interface ModelServiceArgs {
  readonly provider: k8s.Provider;
  readonly environment: Environment;
  readonly namespace: pulumi.Input<string>;
  readonly model: ModelConfig;
  /** The node group named by model.gpu.nodeGroup (undefined for CPU models). */
  readonly gpuNodeGroup?: GpuNodeGroupConfig;
  readonly hfToken?: pulumi.Output<string>;
  /** Create ServiceMonitor/ScaledObject objects (their CRDs must exist). */
  readonly monitoring: boolean;
}

/** One model, one engine, one task, with production defaults. */
export class ModelService extends pulumi.ComponentResource {
  /** In-cluster base URL of the engine, e.g. http://bge.retrieval.svc.cluster.local:8000 */
  readonly url: pulumi.Output<string>;
  readonly modelName: string;

  constructor(name: string, args: ModelServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:serving:ModelService", name, {}, opts);
    this.modelName = args.model.name;
    this.url = pulumi.interpolate`http://${args.model.name}.${args.namespace}.svc.cluster.local`;
    this.registerOutputs({ url: this.url });
  }
}
