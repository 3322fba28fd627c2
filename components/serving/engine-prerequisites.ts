import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { EngineName, Environment } from "../config/common";
import type { ModelConfig } from "../config/serving";
import type { IngressConfig } from "../config/ingress";
import type { EnginesConfig } from "../config/engines";
import { certManagerRelease, ingressInstallsCertManager } from "../k8s/cert-manager";
import { childOptions, formerlyNamed, standardLabels } from "../k8s/meta";
import { NAMESPACE_POD_SECURITY, podSecurityLabels } from "../k8s/namespaces";
import { adapterFor } from "./engines";
import type { EnginePrerequisite } from "./engines/types";
import { pinnedRelease } from "../k8s/helm";

/** One prerequisite to install, the engines that need it, and the ids it waits for (declared before it). */
export interface PlannedPrerequisite {
  readonly prerequisite: EnginePrerequisite;
  readonly engines: readonly EngineName[];
  readonly after: readonly string[];
}

/**
 * The union of the prerequisites of the engines the models use, each once, in install order. Empty when
 * `engines.installPrerequisites` is false. Two engines declaring one id must declare it identically.
 */
export function plannedPrerequisites(
  models: readonly ModelConfig[],
  engines: EnginesConfig,
  environment: Environment,
): PlannedPrerequisite[] {
  if (!engines.installPrerequisites) return [];
  const byId = new Map<string, { prerequisite: EnginePrerequisite; engines: EngineName[]; after: Set<string> }>();
  for (const engine of [...new Set(models.map((m) => m.engine))]) {
    const declared = adapterFor(engine).prerequisites?.(environment) ?? [];
    declared.forEach((p, i) => {
      const seen = byId.get(p.id);
      if (seen && JSON.stringify(seen.prerequisite) !== JSON.stringify(p))
        throw new Error(
          `engines ${seen.engines.join(", ")} and ${engine} declare the prerequisite "${p.id}" differently; one id must mean one install. Fix: align the adapters' declarations, or give one of them another id.`,
        );
      const entry = seen ?? { prerequisite: p, engines: [], after: new Set<string>() };
      entry.engines.push(engine);
      declared.slice(0, i).forEach((before) => entry.after.add(before.id));
      byId.set(p.id, entry);
    });
  }
  return [...byId.values()].map((e) => ({ prerequisite: e.prerequisite, engines: e.engines, after: [...e.after] }));
}

export interface EnginePrerequisitesArgs {
  /** The `k8s.Provider` of the target cluster: every child is created with it. */
  readonly provider: k8s.Provider;
  /** `local`, `dev`, `staging` or `prod`: the environment's profile (components/config/environments.ts) sizes and hardens what is created. */
  readonly environment: Environment;
  /** The stack's models: only the prerequisites their engines declare are installed. */
  readonly models: readonly ModelConfig[];
  /** The `engines` config section: `installPrerequisites: false` installs nothing (the cluster has them). */
  readonly engines: EnginesConfig;
  /** Scrape cert-manager when this component installs it (the Prometheus Operator CRDs must exist). */
  readonly monitoring: boolean;
  /**
   * The ingress: when it installs cert-manager (ingressInstallsCertManager), prerequisites that need cert-manager
   * wait for the Ingress component instead of installing cert-manager a second time.
   */
  readonly ingress: { readonly config: IngressConfig; readonly component: pulumi.Resource };
}

/**
 * Cluster-wide software the stack's engines need before their models (e.g. KServe's CRDs, controller and runtime
 * for InferenceServices), read from the adapters' `prerequisites` declarations: installed once each, only for
 * engines some model uses, and not at all with `engines.installPrerequisites: false`. ModelServices depend on it.
 */
export class EnginePrerequisites extends pulumi.ComponentResource {
  readonly planned: readonly PlannedPrerequisite[];
  /** Whether this component installed cert-manager (false: none needed, or the ingress installs it). */
  readonly installsCertManager: boolean;

  constructor(name: string, args: EnginePrerequisitesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("retrieval-stack:serving:EnginePrerequisites", name, {}, opts);
    const { provider } = args;
    // Children are named after the component (`<name>-<id>`); the literal name each had before is its alias.
    const named = (suffix: string, formerName: string, dependsOn: pulumi.Resource[]) => {
      const childName = `${name}-${suffix}`;
      return {
        name: childName,
        opts: childOptions(this, provider, { dependsOn, ...formerlyNamed(childName, formerName) }),
      };
    };
    this.planned = plannedPrerequisites(args.models, args.engines, args.environment);

    const needsCertManager = this.planned.some((p) => p.prerequisite.needsCertManager);
    const fromIngress = ingressInstallsCertManager(args.ingress.config);
    this.installsCertManager = needsCertManager && !fromIngress;
    const certManager: pulumi.Resource[] = !needsCertManager
      ? []
      : fromIngress
        ? [args.ingress.component]
        : [certManagerRelease({ name, parent: this, provider, monitoring: args.monitoring })];

    const namespaces = new Map<string, k8s.core.v1.Namespace>();
    const namespace = (ns: string) => {
      if (!namespaces.has(ns)) {
        const n = named(`${ns}-namespace`, `${ns}-namespace`, []);
        namespaces.set(
          ns,
          new k8s.core.v1.Namespace(
            n.name,
            {
              metadata: {
                name: ns,
                labels: {
                  ...standardLabels(ns, "engine-prerequisite"),
                  ...(NAMESPACE_POD_SECURITY[ns] ? podSecurityLabels(NAMESPACE_POD_SECURITY[ns].level) : {}),
                },
              },
            },
            n.opts,
          ),
        );
      }
      return namespaces.get(ns)!;
    };

    const installed = new Map<string, pulumi.Resource>();
    for (const { prerequisite: p, after } of this.planned) {
      const before = after.map((id) => {
        const r = installed.get(id);
        if (!r)
          throw new Error(
            `engine prerequisites "${id}" and "${p.id}" are declared in opposite orders by ${this.planned.find((x) => x.prerequisite.id === p.id)?.engines.join(", ")}. Fix: declare them in one order.`,
          );
        return r;
      });
      const dependsOn = [...before, ...(p.needsCertManager ? certManager : [])];
      const child = named(p.id, p.id, p.type === "helm" ? [namespace(p.namespace), ...dependsOn] : dependsOn);
      const resource =
        p.type === "helm"
          ? pinnedRelease(
              child.name,
              // OCI charts carry their registry in `chart` (oci://...) and no repository.
              {
                name: p.id,
                namespace: p.namespace,
                chart: { chart: p.chart, version: p.version, repo: p.repo },
                values: p.values,
              },
              child.opts,
            )
          : new k8s.apiextensions.CustomResource(
              child.name,
              {
                apiVersion: p.apiVersion,
                kind: p.kind,
                metadata: {
                  name: p.name,
                  ...(p.namespace ? { namespace: p.namespace } : {}),
                  labels: standardLabels(p.name, "engine-prerequisite"),
                },
                spec: p.spec,
              },
              child.opts,
            );
      installed.set(p.id, resource);
    }
    this.registerOutputs({});
  }
}
