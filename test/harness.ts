import { OfflineRuntime, type RecordedResource } from "../plan/offline";
import { redactSecrets } from "../plan/redact";

export type { RecordedResource };

/**
 * Runs `build` (which creates components) under the real Pulumi runtime with the offline monitor and returns
 * every resource it registered. Use one call per test: each starts a fresh runtime.
 */
export async function renderResources(
  build: () => void,
  options: { stack?: string; config?: Record<string, string>; secretKeys?: string[] } = {},
): Promise<Rendered> {
  const runtime = await OfflineRuntime.start({
    stack: options.stack ?? "test",
    config: options.config,
    secretKeys: options.secretKeys,
  });
  build();
  await runtime.settle();
  return new Rendered(runtime.resources);
}

export class Rendered {
  constructor(readonly resources: readonly RecordedResource[]) {}

  /** Resources of a Pulumi type, e.g. "kubernetes:apps/v1:Deployment". */
  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** The one resource of a type and name; throws with the names that exist when missing. */
  get(type: string, name: string): RecordedResource {
    const r = this.resources.find((x) => x.type === type && x.name === name);
    if (!r)
      throw new Error(
        `no ${type} named "${name}"; have: ${
          this.ofType(type)
            .map((x) => x.name)
            .join(", ") || "none of that type"
        }`,
      );
    return r;
  }

  /** Inputs of the one resource of a type and name, secrets shown as "[secret]". */
  inputs<T = Record<string, any>>(type: string, name: string): T {
    return redactSecrets(this.get(type, name).inputs) as T;
  }

  /** Kubernetes objects (by kind) whatever the Pulumi type, with secrets redacted. */
  objects<T = Record<string, any>>(kind?: string): T[] {
    return this.resources
      .filter(
        (r) =>
          r.custom &&
          r.type.startsWith("kubernetes:") &&
          !r.type.startsWith("kubernetes:helm.sh") &&
          (!kind || (r.inputs as { kind?: string }).kind === kind),
      )
      .map((r) => redactSecrets(r.inputs) as T);
  }

  types(): string[] {
    return [...new Set(this.resources.map((r) => r.type))].sort();
  }
}

/**
 * Every URN a resource waits for before the engine creates it: its own and its ancestors' dependencies,
 * transitively, where depending on a component means waiting for all of its children.
 */
export function waitsFor(resources: readonly RecordedResource[], resource: RecordedResource): Set<string> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const out = new Set<string>();
  const visit = (urn: string) => {
    if (out.has(urn)) return;
    out.add(urn);
    byUrn.get(urn)?.dependencies.forEach(visit);
    for (const child of resources) if (child.parentUrn === urn) visit(child.urn);
  };
  for (
    let cur: RecordedResource | undefined = resource;
    cur;
    cur = cur.parentUrn ? byUrn.get(cur.parentUrn) : undefined
  )
    cur.dependencies.forEach(visit);
  return out;
}
