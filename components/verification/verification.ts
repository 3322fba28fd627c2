import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { Environment, ModelConfig, VerificationConfig } from "../config";
import { profileOf } from "../config/environments";
import { verificationModeOf, verifiesPublicPath } from "../config/verification";
import { readLabelledSetFile } from "../quality/labelled-set";
import type { FingerprintRecord, FingerprintTarget } from "../fingerprint/schema";
import { specOf } from "../serving/context";
import { adapterFor } from "../serving/engines";
import { childOptions, standardLabels } from "../k8s/meta";
import { ENGINE_CLIENT_LABEL, PROMETHEUS_URL, VERIFICATION_NAMESPACE, VERIFIER_POD_LABEL } from "../k8s/namespaces";
import { FINGERPRINT_LABEL, fingerprintConfigMapName, toConfigMapData } from "../fingerprint/store";
import { planRecordAccess } from "./record-access";
import { scaleFromZeroSeconds } from "../serving/autoscaling";
import { STARTUP_MAX_SECONDS } from "../serving/sizing";
import {
  JOB_CONFIG_DIR,
  JOB_CONFIG_KEY,
  type JobConfig,
  type LocalVerificationInputs,
  type StackTarget,
  type StackVerification,
} from "../contracts/stack-outputs";
import type { PublicEdge } from "../contracts/verify-target";
import { localVerificationProvider } from "./provider";
import { ProjectImage, VERIFIER_IMAGE } from "../build/project-image";
import { GATEWAY_DIALECT } from "../contracts/verify-target";
import { NODE_IMAGE_UID, nonRootPodSecurity, restrictedContainerSecurity } from "../k8s/pod-security";

export interface VerificationTarget {
  readonly model: ModelConfig;
  /** In-cluster base URL of the engine (the Job calls it). */
  readonly url: pulumi.Input<string>;
  /** Public URL of the model's task endpoint through the ingress, when it has one (local mode and the CLI use it). */
  readonly publicUrl?: pulumi.Input<string>;
  /**
   * The model's startup budget (ModelService.pod.startupBudgetSeconds). A scale-to-zero model (replicas.min 0)
   * is waited for up to this plus a new node and an image pull before its checks; without it, the longest
   * startup budget any model gets (STARTUP_MAX_SECONDS).
   */
  readonly startupBudgetSeconds?: number;
  /** What the ingress enforces on `publicUrl` (Ingress.limits): the public-path checks prove it. */
  readonly edge?: PublicEdge;
}

/** The stack's gateway (components/gateway): one base URL for every model, checked with the OpenAI/Cohere shapes. */
export interface VerificationGateway {
  /** In-cluster base URL of the gateway's Service (the Job calls it), e.g. http://retrieval-gateway.retrieval.svc:8080. */
  readonly url: pulumi.Input<string>;
  /**
   * Public base URL through the ingress, e.g. https://retrieval.example.com (local mode and `verify --stack` call
   * it). Without it, local mode does not check the gateway (the in-cluster URL is out of its reach).
   */
  readonly publicUrl?: pulumi.Input<string>;
  /** Names of the stack's models the gateway serves; default: every target's model. */
  readonly models?: readonly string[];
  /** A key the gateway accepts, sent as `Authorization: Bearer`; default: args.apiKey. */
  readonly apiKey?: pulumi.Output<string>;
  /** What the ingress enforces on the gateway's public paths (Ingress.gatewayLimits). */
  readonly edge?: PublicEdge;
}

export interface VerificationArgs {
  /** The `k8s.Provider` of the target cluster: every child is created with it. */
  readonly provider: k8s.Provider;
  /** `local`, `dev`, `staging` or `prod`: local runs the verifier in-process, the others as a Job (`verification.mode`). */
  readonly environment: Environment;
  /** The `verification` config section: mode, image, timeouts, concurrency, quality, fingerprint and promotion checks. */
  readonly verification: VerificationConfig;
  /** What to verify: each model with its in-cluster URL (`targetFor`). */
  readonly targets: readonly VerificationTarget[];
  /**
   * Namespace of the Job (the models' namespace, whose NetworkPolicies admit engine clients).
   * @default "retrieval" (VERIFICATION_NAMESPACE)
   */
  readonly namespace?: pulumi.Input<string>;
  /**
   * Namespace of the fingerprint record's ConfigMaps (`fingerprint-<model>`, `verification-promotion`): the quality
   * canary's, since a pod mounts ConfigMaps of its own namespace only.
   * @default the Job's namespace
   */
  readonly recordNamespace?: pulumi.Input<string>;
  /**
   * Sent as `Authorization: Bearer`: needed through the ingress (local mode) or by engines started with a key.
   * @default none: no Authorization header
   */
  readonly apiKey?: pulumi.Output<string>;
  /**
   * Also verify every model through the gateway (after the engines).
   * @default none: no gateway targets
   */
  readonly gateway?: VerificationGateway;
  /**
   * The verifier image for the Job (mode job), e.g. a ProjectImage the stack shares with the quality canary.
   * @default verification.image, else built from images/verifier and pushed to ECR (cloud stacks)
   */
  readonly image?: pulumi.Input<string>;
  /**
   * The gateway's aliases (gateway.aliases): a raised rerank share or a switched embedding alias must pass the
   * promotion gate (verification.promotion); an embedding alias whose target differs from its `indexedWith` (a
   * model loading the same weights, config refuses any other) must answer within tolerance of that model's
   * recorded fingerprint (docs/model-changes.md).
   * @default none: no promotion gate, no alias switch checked
   */
  readonly aliases?: Readonly<Record<string, VerificationAlias>>;
}

/** One gateway alias as the verification sees it (the fields of gateway.aliases.<name> it reads). */
export interface VerificationAlias {
  readonly targets: readonly { model: string; weight: number }[];
  /** Embedding aliases: the model whose vectors the callers' indexes hold. */
  readonly indexedWith?: string;
}

/** An embedding alias pointed at `to` while its callers' indexes hold `from`'s vectors. */
interface AliasSwitchTarget {
  readonly alias: string;
  readonly from: string;
  readonly to: string;
}

/**
 * The embedding aliases whose one target is not the model named by `indexedWith`: each is checked against the
 * former model's recorded fingerprint, so that model must be verified (fingerprinted) in this stack too.
 */
function aliasSwitchesOf(aliases: VerificationArgs["aliases"], models: readonly ModelConfig[]): AliasSwitchTarget[] {
  const task = (name: string) => models.find((m) => m.name === name)?.task;
  return Object.entries(aliases ?? {}).flatMap(([alias, a]) => {
    const to = a.targets[0]?.model;
    if (a.indexedWith === undefined || to === undefined || a.targets.length !== 1 || a.indexedWith === to) return [];
    if (task(to) !== "embed") return [];
    if (task(a.indexedWith) !== "embed")
      throw new Error(
        `Verification: alias ${alias} points at ${to} while indexedWith names ${a.indexedWith}, which is not an embedding model among the verified ones (${models.map((m) => m.name).join(", ")}): its recorded fingerprint could not be compared. Point the alias back at ${a.indexedWith}, or set indexedWith: ${to} after re-indexing`,
      );
    return [{ alias, from: a.indexedWith, to }];
  });
}

/** Fields of a model that change what the checks see (replicas and autoscaling do not). */
function verifiedFields(m: ModelConfig): unknown {
  const { replicas: _r, autoscaling: _a, ...rest } = m;
  return rest;
}

/** JSON with sorted keys, so the hash does not depend on key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Short hash of what is verified: names the Job and keys the local resource, so checks re-run only on change. */
export function verificationHash(
  models: readonly ModelConfig[],
  verification: VerificationConfig,
  gatewayModels: readonly string[] = [],
  aliasSwitches: readonly AliasSwitchTarget[] = [],
): string {
  const gateway = gatewayModels.length ? { gateway: [...gatewayModels].sort() } : {};
  // An alias switch is something to verify (a fingerprint comparison) even when no model changed.
  const switches = aliasSwitches.length ? { aliasSwitches } : {};
  return createHash("sha256")
    .update(stableJson({ models: models.map(verifiedFields), verification, ...gateway, ...switches }))
    .digest("hex")
    .slice(0, 10);
}

/** How long the verifier waits for a scale-to-zero model (replicas.min 0) to come up; undefined for the others. */
export function wakeTimeoutOf(model: ModelConfig, startupBudgetSeconds?: number): number | undefined {
  return model.replicas.min === 0 ? scaleFromZeroSeconds(startupBudgetSeconds ?? STARTUP_MAX_SECONDS) : undefined;
}

/**
 * The checks' view of one model, from config and the catalogue (dims, normalisation) and its adapter's dialect.
 * A model that scales to zero gets a wake-up budget: outside its working hours the verifier's pod wakes it (a
 * KEDA trigger on VERIFIER_POD_LABEL), and the verifier waits for it before the checks.
 */
export function targetFor(
  model: ModelConfig,
  url: string,
  publicUrl?: string,
  startupBudgetSeconds?: number,
): StackTarget {
  const spec = specOf(model);
  const wakeTimeoutSeconds = wakeTimeoutOf(model, startupBudgetSeconds);
  const wake =
    wakeTimeoutSeconds !== undefined
      ? { wakeTimeoutSeconds, ...(model.autoscaling.activeHours ? { activeHours: model.autoscaling.activeHours } : {}) }
      : {};
  return {
    name: model.name,
    kind: "engine",
    url,
    dialect: adapterFor(model.engine).dialect.name,
    task: model.task,
    servedModel: model.name,
    modelId: model.model,
    dims: model.task === "embed" ? (model.dimensions ?? spec?.dims) : undefined,
    requestDimensions: model.dimensions,
    normalized: model.task === "embed" && (spec?.normalized ?? false),
    sloP99Ms: model.slo.p99LatencyMs,
    ...(spec?.languages ? { languages: [...spec.languages] } : {}),
    ...(model.quality?.minMrrAt10 !== undefined ? { minMrrAt10: model.quality.minMrrAt10 } : {}),
    ...(model.quality?.labelledSet
      ? { labelledSet: readLabelledSetFile(model.quality.labelledSet, `models.${model.name}`) }
      : {}),
    ...(publicUrl ? { publicUrl } : {}),
    ...wake,
  };
}

/** What the fingerprint check needs for one model: the key of what can change its answers, and the tolerance. */
export function fingerprintTargetFor(
  model: ModelConfig,
  v: VerificationConfig,
  aliasSwitches: readonly { alias: string; from: string }[] = [],
): FingerprintTarget {
  const { enabled: _e, ...tolerance } = v.fingerprint;
  return {
    key: {
      modelId: model.model,
      revision: model.revision ?? "unpinned",
      engine: model.engine,
      engineVersion: model.engineVersion ?? adapterFor(model.engine).defaultVersion,
      dtype: model.dtype,
      dimensions: model.task === "embed" ? (model.dimensions ?? specOf(model)?.dims ?? 0) : 0,
    },
    configPath: `models.${model.name}`,
    ...(model.reindexConfirmed ? { reindexConfirmed: model.reindexConfirmed } : {}),
    tolerance,
    ...(aliasSwitches.length ? { aliasSwitches: [...aliasSwitches] } : {}),
  };
}

/** The promotion gate's inputs: aliases as this deploy sets them, each model's task, the gate. */
function promotionInputs(
  aliases: NonNullable<VerificationArgs["aliases"]>,
  models: readonly ModelConfig[],
  v: VerificationConfig,
): NonNullable<LocalVerificationInputs["promotion"]> {
  const { enabled: _e, prometheusUrl, override, ...gate } = v.promotion;
  return {
    aliases: Object.fromEntries(
      Object.entries(aliases).map(([n, a]) => [
        n,
        { targets: a.targets.map((t) => ({ model: t.model, weight: t.weight })) },
      ]),
    ),
    tasks: Object.fromEntries(models.map((m) => [m.name, m.task])),
    gate,
    ...(prometheusUrl ? { prometheusUrl } : {}),
    ...(override ? { override } : {}),
  };
}

/** The Job's name hash when the promotion gate runs: what is verified plus the aliases this deploy sets. */
export function jobHash(hash: string, aliases: unknown): string {
  return createHash("sha256")
    .update(`${hash}\u0000${stableJson(aliases)}`)
    .digest("hex")
    .slice(0, 10);
}

/** Display name of a model's gateway target. */
export const gatewayTargetName = (model: string) => `${model} via gateway`;

/**
 * The checks' view of one model through the gateway: the same expectations as its engine target (dims,
 * normalisation, SLO), called at the gateway's base URL by the stack's model name in the OpenAI/Cohere shapes.
 * No wake-up phase: the engine target before it already woke a scale-to-zero model.
 */
export function gatewayTargetFor(model: ModelConfig, url: string, publicUrl?: string): StackTarget {
  const { wakeTimeoutSeconds: _w, activeHours: _h, publicUrl: _p, ...engine } = targetFor(model, url);
  return {
    ...engine,
    name: gatewayTargetName(model.name),
    kind: "gateway",
    dialect: GATEWAY_DIALECT,
    servedModel: model.name,
    ...(publicUrl ? { publicUrl } : {}),
  };
}

/** The models a gateway arg covers: its `models` names (each must be a target's model), else every target's. */
export function gatewayModelsOf(
  gateway: VerificationGateway | undefined,
  models: readonly ModelConfig[],
): ModelConfig[] {
  if (!gateway) return [];
  if (!gateway.models) return [...models];
  return gateway.models.map((name) => {
    const m = models.find((x) => x.name === name);
    if (!m)
      throw new Error(
        `Verification: gateway.models names "${name}", which is not among the verified models (${models.map((x) => x.name).join(", ")})`,
      );
    return m;
  });
}

/** The local mode's resource: its create/update run the checks (provider.ts). Type `pulumi-nodejs:dynamic/verification:LocalVerification`. */
export class LocalVerification extends pulumi.dynamic.Resource {
  declare readonly summary: pulumi.Output<string>;
  declare readonly targetsHash: pulumi.Output<string>;
  /** The recorded fingerprint of every verified model, by model name (kept in state across deploys). */
  declare readonly fingerprints: pulumi.Output<FingerprintRecord | undefined>;
  constructor(name: string, inputs: pulumi.Inputs, opts?: pulumi.CustomResourceOptions) {
    super(
      localVerificationProvider,
      name,
      { ...inputs, summary: undefined, fingerprints: undefined },
      opts,
      "verification",
      "LocalVerification",
    );
  }
}

/** The checks' budget: every model's timeout, plus scheduling and image pull. */
function checksBudgetSeconds(v: VerificationConfig, models: number): number {
  return Math.ceil(v.timeoutSeconds * models + 300);
}

/**
 * The Job's activeDeadlineSeconds: the checks' budget plus every scale-to-zero model's wake-up budget (the
 * verifier waits for them one after the other, each at most its wakeTimeoutSeconds).
 */
export function jobDeadlineSeconds(
  v: VerificationConfig,
  targets: readonly Pick<VerificationTarget, "model" | "startupBudgetSeconds">[],
  gatewayTargets = 0,
): number {
  return (
    checksBudgetSeconds(v, targets.length + gatewayTargets) +
    Math.ceil(targets.reduce((sum, t) => sum + (wakeTimeoutOf(t.model, t.startupBudgetSeconds) ?? 0), 0))
  );
}
/** Pulumi awaits the Job a little longer than its own deadline, so that the Job's verdict (and message) comes first. */
const AWAIT_MARGIN_SECONDS = 120;

/**
 * Runs the post-deploy checks for every model once they are ready and fails `pulumi up` when one fails.
 * - mode job: a Job in the models' namespace (reaches private Services; like `helm test`), awaited by the
 *   Kubernetes provider (a Failed condition fails the update). Its name carries a hash of the models and the
 *   options, so it is replaced (the checks re-run) only when a model, an engine or the options change.
 * - mode local: a dynamic resource whose create/update run the checks from the machine running `pulumi up`
 *   (through the ingress routes) and throw with the report.
 * - mode off: nothing.
 */
export class Verification extends pulumi.ComponentResource {
  /** What the checks call, per model; exported as the `verification` stack output for `retrieval-stack verify --stack`. */
  readonly stackOutput: pulumi.Output<StackVerification>;
  /** The API key the checks send (secret), exported as `verificationApiKey` for `verify --stack`. */
  readonly apiKey: pulumi.Output<string | undefined>;
  /** The key sent to the gateway (secret), exported as `verificationGatewayApiKey` for `verify --stack`. */
  readonly gatewayApiKey: pulumi.Output<string | undefined>;
  readonly hash: string;
  /**
   * The recorded fingerprints (local mode): the first verified deploy records each model's, later deploys keep
   * or (after a confirmed re-index) replace them. Exported as the `modelFingerprints` stack output.
   */
  readonly fingerprints: pulumi.Output<FingerprintRecord | undefined> = pulumi.output(undefined);
  /**
   * What the canary compares with, by model name: each model's fingerprint target (key, tolerance). The recorded
   * fingerprint itself is not in it: it lives in the model's `fingerprint-<model>` ConfigMap (components/fingerprint/
   * store.ts), written by the Job (mode job) or by this component from the local resource's state (mode local),
   * and the canary mounts those ConfigMaps.
   */
  readonly fingerprintTargets: Record<string, FingerprintTarget>;
  /** The component's dependsOn (every model), repeated on the resources that run the checks, so that the engine's graph records it. */
  private readonly after: pulumi.Input<pulumi.Input<pulumi.Resource>[]> | pulumi.Input<pulumi.Resource> | undefined;

  constructor(name: string, args: VerificationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:verification:Verification", name, {}, opts);
    this.after = opts?.dependsOn;
    const { verification: v } = args;
    const models = args.targets.map((t) => t.model);
    const viaGateway = gatewayModelsOf(args.gateway, models);
    const switches = v.fingerprint.enabled ? aliasSwitchesOf(args.aliases, models) : [];
    this.hash = verificationHash(
      models,
      v,
      viaGateway.map((m) => m.name),
      switches,
    );
    const switchesTo = (model: string) =>
      switches.filter((s) => s.to === model).map(({ alias, from }) => ({ alias, from }));
    const options = {
      requests: v.requests,
      concurrency: v.concurrency,
      timeoutSeconds: v.timeoutSeconds,
      requestTimeoutSeconds: v.requestTimeoutSeconds,
      maxRetries: v.maxRetries,
      quality: v.quality,
      publicPathLimits: v.publicPathLimits,
    };
    const engineTargets = args.targets.map((t) =>
      pulumi.all([t.url, t.publicUrl]).apply(([url, publicUrl]) => ({
        ...targetFor(t.model, url, publicUrl, t.startupBudgetSeconds),
        ...(v.fingerprint.enabled ? { fingerprint: fingerprintTargetFor(t.model, v, switchesTo(t.model.name)) } : {}),
        ...(publicUrl && t.edge ? { edge: t.edge } : {}),
      })),
    );
    const gw = args.gateway;
    const gatewayTargets = gw
      ? viaGateway.map((m) =>
          pulumi.all([gw.url, gw.publicUrl]).apply(([url, publicUrl]) => ({
            ...gatewayTargetFor(m, url, publicUrl),
            ...(publicUrl && gw.edge ? { edge: gw.edge } : {}),
          })),
        )
      : [];
    // Engines first: a gateway failure then reads against engines already proven (or already failing).
    const targets = pulumi.all([...engineTargets, ...gatewayTargets]).apply((ts) => ts as StackTarget[]);
    // `verify --stack` reads no record: an alias switch, compared only with the former model's record, is left to
    // the Job and the local resource (which read it), rather than failing there for want of a record.
    this.stackOutput = targets.apply((ts) => ({
      options,
      targets: ts.map((t) => {
        if (!t.fingerprint?.aliasSwitches) return t;
        const { aliasSwitches: _s, ...fingerprint } = t.fingerprint;
        return { ...t, fingerprint };
      }),
    }));
    this.apiKey = args.apiKey ?? pulumi.output(undefined);
    this.gatewayApiKey = gw ? (gw.apiKey ?? this.apiKey) : pulumi.output(undefined);

    const mode = verificationModeOf(v, args.environment);
    const job = mode === "job" ? this.createJob(name, args, targets, options) : undefined;
    // With a Job, the Job alone keeps the record and runs the promotion gate; the local run below (prod's public
    // path) checks what clients reach and nothing else, so there is one record and one gate.
    // Prod (or verification.publicPath): the Job proves the models in the cluster, this proves what clients reach:
    // the NLB, TLS, the ingress's routes, keys and limits, and the gateway's public URL.
    if (mode === "local" || (job && verifiesPublicPath(v, args.environment))) {
      const inputs: pulumi.Inputs = {
        // No wake-up phase from outside the cluster: no verifier pod exists to wake a scale-to-zero model.
        targets: targets.apply((ts) =>
          ts.flatMap(({ publicUrl, wakeTimeoutSeconds: _wake, activeHours: _hours, ...t }) => {
            // The gateway from outside: its public base URL, or not at all.
            if (t.kind === "gateway") return publicUrl ? [{ ...t, url: publicUrl }] : [];
            const own = job ? (({ fingerprint: _f, ...rest }) => rest)(t) : t;
            if (!publicUrl) return [own];
            const u = new URL(publicUrl);
            return [{ ...own, url: u.origin, route: u.pathname }];
          }),
        ),
        options,
        targetsHash: this.hash,
        ...(v.promotion.enabled && args.aliases && !job ? { promotion: promotionInputs(args.aliases, models, v) } : {}),
        ...(args.apiKey ? { apiKey: args.apiKey } : {}),
        ...(gw && (gw.apiKey ?? args.apiKey) ? { gatewayApiKey: gw.apiKey ?? args.apiKey } : {}),
      } satisfies { [K in keyof LocalVerificationInputs]: unknown };
      const budget = `${checksBudgetSeconds(v, models.length + viaGateway.length)}s`;
      this.fingerprints = new LocalVerification(`${name}-local`, inputs, {
        parent: this,
        dependsOn: job ? [...this.afterList(), job] : this.afterList(),
        customTimeouts: { create: budget, update: budget },
      }).fingerprints;
    }
    this.fingerprintTargets = v.fingerprint.enabled
      ? Object.fromEntries(models.map((m) => [m.name, fingerprintTargetFor(m, v)]))
      : {};
    // Local mode: the record lives in the resource's state; the canary reads it from one ConfigMap per model.
    if (mode === "local" && v.fingerprint.enabled) {
      const namespace = args.recordNamespace ?? args.namespace ?? VERIFICATION_NAMESPACE;
      for (const m of models) {
        const stored = this.fingerprints.apply((record) =>
          record?.[m.name] ? toConfigMapData(m.name, record[m.name]!) : undefined,
        );
        new k8s.core.v1.ConfigMap(
          `${name}-fingerprint-${m.name}`,
          {
            metadata: {
              name: fingerprintConfigMapName(m.name),
              namespace,
              labels: standardLabels("verifier", "verification", { [FINGERPRINT_LABEL]: m.name }),
            },
            data: stored.apply((d) => d?.data ?? {}),
            binaryData: stored.apply((d) => d?.binaryData ?? {}),
          },
          childOptions(this, args.provider),
        );
      }
    }
    this.registerOutputs({ stackOutput: this.stackOutput, hash: this.hash });
  }

  private afterList(): pulumi.Input<pulumi.Resource>[] {
    if (this.after === undefined) return [];
    return Array.isArray(this.after) ? this.after : [this.after as pulumi.Input<pulumi.Resource>];
  }

  /** The verifier image: the one given, the configured one, else built from images/verifier and pushed to ECR (cloud stacks). */
  private image(name: string, args: VerificationArgs): pulumi.Input<string> {
    const given = args.image ?? args.verification.image;
    if (given) return given;
    if (!profileOf(args.environment).cloud) {
      // Config rules refuse this combination first; this guards library users who skip loadPlatformConfig.
      throw new Error(
        `verification.mode "job" in environment "${args.environment}" needs verification.image (there is no registry to push a build to); or set verification.mode to "local"`,
      );
    }
    // The image's tag is a hash of its sources and the Job runs its digest: a new verifier build is a new Job
    // spec, so the checks re-run with the new code even when the models did not change.
    return new ProjectImage(`${name}-verifier`, { environment: args.environment, ...VERIFIER_IMAGE }, { parent: this })
      .ref;
  }

  private createJob(
    name: string,
    args: VerificationArgs,
    targets: pulumi.Output<StackTarget[]>,
    options: JobConfig["options"],
  ): k8s.batch.v1.Job {
    const { provider, verification: v } = args;
    const gatewayTargets = gatewayModelsOf(
      args.gateway,
      args.targets.map((t) => t.model),
    ).length;
    const deadline = jobDeadlineSeconds(v, args.targets, gatewayTargets);
    const namespace = args.namespace ?? VERIFICATION_NAMESPACE;
    const recordNamespace = args.recordNamespace ?? namespace;
    const labels = standardLabels("verifier", "verification", { [ENGINE_CLIENT_LABEL]: "true" });
    const models = args.targets.map((t) => t.model);
    // The record (#25): fingerprints and the aliases the promotion gate compares with, kept in ConfigMaps that the
    // Job reads and writes through the API (images/verifier/src/record-store.ts; docs/model-changes.md says why).
    const fingerprinted = v.fingerprint.enabled ? models.map((m) => m.name) : [];
    const promotion =
      v.promotion.enabled && args.aliases
        ? (({ prometheusUrl, ...p }) => ({ ...p, prometheusUrl: prometheusUrl ?? PROMETHEUS_URL }))(
            promotionInputs(args.aliases, models, v),
          )
        : undefined;
    const keepsRecord = fingerprinted.length > 0 || promotion !== undefined;
    // The aliases are part of what the Job checks: a weight change alone is a new Job (the gate runs).
    const jobName = `verify-${promotion ? jobHash(this.hash, promotion.aliases) : this.hash}`;
    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      {
        metadata: { name: jobName, namespace, labels },
        data: {
          [JOB_CONFIG_KEY]: pulumi.all([targets, recordNamespace]).apply(([ts, ns]) =>
            JSON.stringify(
              {
                options,
                // The Job calls in-cluster URLs: no ingress in between, so no edge limits to prove.
                targets: ts.map(({ publicUrl: _p, edge: _e, ...t }) => t),
                ...(keepsRecord ? { record: { namespace: ns } } : {}),
                ...(promotion ? { promotion } : {}),
              } satisfies JobConfig,
              null,
              2,
            ),
          ),
        },
      },
      childOptions(this, provider),
    );
    const access = keepsRecord
      ? (() => {
          const plan = planRecordAccess(
            { job: namespace, record: recordNamespace },
            fingerprinted,
            promotion !== undefined,
            standardLabels("verifier", "verification"),
          );
          const sa = new k8s.core.v1.ServiceAccount(`${name}-sa`, plan.serviceAccount, childOptions(this, provider));
          const role = new k8s.rbac.v1.Role(`${name}-record`, plan.role, childOptions(this, provider));
          const binding = new k8s.rbac.v1.RoleBinding(
            `${name}-record`,
            plan.roleBinding,
            childOptions(this, provider, { dependsOn: [sa, role] }),
          );
          return { sa, dependsOn: [sa, role, binding] };
        })()
      : undefined;
    const gatewayKey = args.gateway ? (args.gateway.apiKey ?? args.apiKey) : undefined;
    const secret =
      args.apiKey || gatewayKey
        ? new k8s.core.v1.Secret(
            `${name}-api-key`,
            {
              metadata: { name: jobName, namespace, labels },
              type: "Opaque",
              stringData: {
                ...(args.apiKey ? { VERIFY_API_KEY: args.apiKey } : {}),
                ...(gatewayKey ? { VERIFY_GATEWAY_API_KEY: gatewayKey } : {}),
              },
            },
            childOptions(this, provider),
          )
        : undefined;
    return new k8s.batch.v1.Job(
      `${name}-job`,
      {
        metadata: {
          name: jobName,
          namespace,
          labels,
          // A Job that failed is replaced (re-run) by the next `pulumi up` instead of being awaited forever.
          annotations: { "pulumi.com/replaceUnready": "true" },
        },
        spec: {
          // The verifier retries transient errors itself; a second pod would only repeat a verdict.
          backoffLimit: 0,
          activeDeadlineSeconds: deadline,
          template: {
            // VERIFIER_POD_LABEL: while this pod is Pending or Running, every scale-to-zero model runs a replica.
            metadata: { labels: { ...labels, [VERIFIER_POD_LABEL]: "true" } },
            spec: {
              restartPolicy: "Never",
              // A token only where the Job keeps a record: its service account's Role reaches those ConfigMaps only.
              ...(access
                ? { serviceAccountName: access.sa.metadata.name, automountServiceAccountToken: true }
                : { automountServiceAccountToken: false }),
              securityContext: nonRootPodSecurity(NODE_IMAGE_UID),
              containers: [
                {
                  name: "verifier",
                  image: this.image(name, args),
                  imagePullPolicy: "IfNotPresent",
                  env: [{ name: "VERIFY_CONFIG_FILE", value: `${JOB_CONFIG_DIR}/${JOB_CONFIG_KEY}` }],
                  envFrom: secret ? [{ secretRef: { name: secret.metadata.name } }] : undefined,
                  volumeMounts: [{ name: "config", mountPath: JOB_CONFIG_DIR, readOnly: true }],
                  resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { memory: "512Mi" } },
                  securityContext: restrictedContainerSecurity(),
                  // The failures, whole, where `kubectl describe` and the Job's events show them.
                  terminationMessagePolicy: "FallbackToLogsOnError",
                },
              ],
              volumes: [{ name: "config", configMap: { name: config.metadata.name } }],
            },
          },
        },
      },
      childOptions(this, provider, {
        dependsOn: [...this.afterList(), config, ...(secret ? [secret] : []), ...(access?.dependsOn ?? [])],
        deleteBeforeReplace: true,
        customTimeouts: {
          create: `${deadline + AWAIT_MARGIN_SECONDS}s`,
          update: `${deadline + AWAIT_MARGIN_SECONDS}s`,
        },
      }),
    );
  }
}
