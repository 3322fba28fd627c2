import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { CALL_OUTPUTS, RESOURCE_OUTPUTS } from "./mock-outputs";

/** One resource the program registered, as the engine would have received it. */
export interface RecordedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parentUrn?: string;
  readonly custom: boolean;
  /** Inputs, with secret values still wrapped in Pulumi's secret signature (see redact.ts). */
  readonly inputs: Record<string, unknown>;
  /** URNs this resource waits for (dependsOn and inputs from other resources): what the engine orders by. */
  readonly dependencies: readonly string[];
  /** Resource options the engine received, only those set (see optionsOf). */
  readonly options: ResourceOptionsRecord;
}

/** The resource options a reviewer acts on, as the engine receives them (names as in Pulumi's ResourceOptions). */
export interface ResourceOptionsRecord {
  customTimeouts?: { create?: string; update?: string; delete?: string };
  /** Dependencies that do not come from an input: explicit `dependsOn` (a component expands to its children). */
  dependsOn?: string[];
  deleteBeforeReplace?: boolean;
  protect?: boolean;
  retainOnDelete?: boolean;
  ignoreChanges?: string[];
  replaceOnChanges?: string[];
  additionalSecretOutputs?: string[];
  deletedWith?: string;
  /** The provider reference, `urn::id`. */
  provider?: string;
  /** Per-package providers of a component (`providers` option). */
  providers?: Record<string, string>;
  /**
   * Former names the engine matches this resource's state against (`aliases` with a name, or an alias URN), so a
   * rename is no replacement. The type-only aliases that provider SDKs add for their old API versions are left out.
   */
  aliases?: string[];
}

export interface OfflineOptions {
  readonly project?: string;
  readonly stack: string;
  /** Full config map (`retrieval-stack:models` -> JSON string), as `pulumi up` passes it to the program. */
  readonly config?: Record<string, string>;
  readonly secretKeys?: readonly string[];
}

/** Kubernetes objects get their `metadata.name` from the resource name when none is given (no random suffix offline). */
function k8sDefaults(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (
    !type.startsWith("kubernetes:") ||
    type.startsWith("kubernetes:helm.sh") ||
    type === "pulumi:providers:kubernetes"
  )
    return {};
  const metadata = (inputs.metadata ?? {}) as Record<string, unknown>;
  return { metadata: { ...metadata, name: metadata.name ?? name } };
}

/**
 * The real Pulumi runtime, with the engine replaced by an in-process monitor that records every resource.
 * This is how `npm run plan` and the tests evaluate the program without a CLI, credentials or a cluster.
 */
export class OfflineRuntime {
  readonly resources: RecordedResource[] = [];

  private constructor() {}

  static async start(options: OfflineOptions): Promise<OfflineRuntime> {
    const runtime = new OfflineRuntime();
    const project = options.project ?? "retrieval-stack";
    const mocks: pulumi.runtime.Mocks = {
      newResource: (args) => {
        const outputs = RESOURCE_OUTPUTS[args.type]?.(args.name, args.inputs) ?? {};
        const state = { ...args.inputs, ...k8sDefaults(args.type, args.name, args.inputs), ...outputs };
        return { id: args.custom === false ? undefined : `${args.name}-id`, state };
      },
      call: (args) => CALL_OUTPUTS[args.token]?.(args.inputs) ?? args.inputs,
    };
    await pulumi.runtime.setMocks(mocks, project, options.stack, false);
    // Replace the stock mock monitor with one that also records the parent of each resource.
    pulumi.runtime.setMockOptions(new RecordingMonitor(mocks, runtime.resources), project, options.stack, false);
    // setMockOptions resets the feature flags (secrets off): ask the new monitor again, so that secret inputs are
    // recorded with Pulumi's secret signature instead of in clear.
    await (
      require("@pulumi/pulumi/runtime/settings") as { awaitFeatureSupport(): Promise<void> }
    ).awaitFeatureSupport();
    pulumi.runtime.setAllConfig(options.config ?? {}, [...(options.secretKeys ?? [])]);
    return runtime;
  }

  /** Waits until every registration and output the program started has been processed. */
  async settle(): Promise<void> {
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs?: () => Promise<void> };
    if (typeof settings.waitForRPCs !== "function")
      throw new Error("@pulumi/pulumi no longer exports settings.waitForRPCs; update plan/offline.ts");
    await settings.waitForRPCs();
  }

  byType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  find(type: string, name: string): RecordedResource | undefined {
    return this.resources.find((r) => r.type === type && r.name === name);
  }

  /** Children, grandchildren, ... of a resource. */
  descendantsOf(urn: string): RecordedResource[] {
    const out: RecordedResource[] = [];
    const queue = [urn];
    while (queue.length) {
      const parent = queue.shift();
      for (const r of this.resources) {
        if (r.parentUrn !== parent) continue;
        out.push(r);
        queue.push(r.urn);
      }
    }
    return out;
  }

  clear(): void {
    this.resources.length = 0;
  }
}

interface RegisterRequest {
  getDependenciesList(): string[];
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
  getPropertydependenciesMap(): { forEach(cb: (deps: { getUrnsList(): string[] }, key: string) => void): void };
  getDeletebeforereplace(): boolean;
  getDeletebeforereplacedefined(): boolean;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getIgnorechangesList(): string[];
  getReplaceonchangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getDeletedwith(): string;
  getProvider(): string;
  getProvidersMap(): { forEach(cb: (ref: string, pkg: string) => void): void };
  getAliasurnsList(): string[];
  getAliasesList(): {
    getUrn(): string;
    getSpec(): { getName(): string } | undefined;
  }[];
}

/** The options a request carries, leaving out what is unset or default so resources.json stays readable. */
export function optionsOf(req: RegisterRequest): ResourceOptionsRecord {
  const o: ResourceOptionsRecord = {};
  const t = req.getCustomtimeouts();
  if (t && (t.getCreate() || t.getUpdate() || t.getDelete()))
    o.customTimeouts = {
      ...(t.getCreate() ? { create: t.getCreate() } : {}),
      ...(t.getUpdate() ? { update: t.getUpdate() } : {}),
      ...(t.getDelete() ? { delete: t.getDelete() } : {}),
    };
  const fromInputs = new Set<string>();
  req.getPropertydependenciesMap().forEach((deps) => deps.getUrnsList().forEach((u) => fromInputs.add(u)));
  const dependsOn = req.getDependenciesList().filter((u) => !fromInputs.has(u));
  if (dependsOn.length) o.dependsOn = dependsOn;
  if (req.getDeletebeforereplacedefined() || req.getDeletebeforereplace())
    o.deleteBeforeReplace = req.getDeletebeforereplace();
  if (req.getProtect()) o.protect = true;
  if (req.getRetainondelete()) o.retainOnDelete = true;
  const lists = {
    ignoreChanges: req.getIgnorechangesList(),
    replaceOnChanges: req.getReplaceonchangesList(),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
  };
  for (const [k, v] of Object.entries(lists)) if (v.length) o[k as keyof typeof lists] = [...v];
  if (req.getDeletedwith()) o.deletedWith = req.getDeletedwith();
  if (req.getProvider()) o.provider = req.getProvider();
  const providers: Record<string, string> = {};
  req.getProvidersMap().forEach((ref, pkg) => (providers[pkg] = ref));
  if (Object.keys(providers).length) o.providers = providers;
  const aliases = [
    ...req.getAliasurnsList(),
    ...req.getAliasesList().map((a) => (a.getSpec() ? a.getSpec()!.getName() : a.getUrn())),
  ].filter((a) => a !== "");
  if (aliases.length) o.aliases = aliases;
  return o;
}

class RecordingMonitor extends MockMonitor {
  constructor(
    mocks: pulumi.runtime.Mocks,
    private readonly sink: RecordedResource[],
  ) {
    super(mocks);
  }

  override async registerResource(
    req: RegisterRequest & object,
    callback: (err: unknown, res: unknown) => void,
  ): Promise<void> {
    const wrapped = (err: unknown, res: unknown) => {
      if (!err && res && typeof (res as { getUrn?: () => string }).getUrn === "function") {
        const urn = (res as { getUrn: () => string }).getUrn();
        const rpc = require("@pulumi/pulumi/runtime/rpc") as {
          deserializeProperties(s: unknown, keep?: boolean): Record<string, unknown>;
        };
        const inputs = rpc.deserializeProperties((req as unknown as { getObject(): unknown }).getObject(), true);
        this.sink.push({
          urn,
          type: req.getType(),
          name: req.getName(),
          parentUrn: req.getParent() || undefined,
          custom: req.getCustom(),
          inputs,
          dependencies: req.getDependenciesList(),
          options: optionsOf(req),
        });
      }
      callback(err, res);
    };
    return super.registerResource(req, wrapped);
  }
}
