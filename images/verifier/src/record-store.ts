/**
 * The verification Job's record (#25), kept in ConfigMaps of the models' namespace through the Kubernetes API:
 * one `fingerprint-<model>` per model (components/fingerprint/store.ts: JSON + float16 binaryData) and one
 * `verification-promotion` holding the gateway's aliases as the last verified deploy left them (what the promotion
 * gate compares the new aliases with). Same semantics as the local mode's resource state: read before the checks,
 * written only after every check passed, so a failed deploy never touches the record it failed against.
 */
import type { Fingerprint } from "../../../components/fingerprint/fingerprint";
import {
  FINGERPRINT_LABEL,
  fingerprintConfigMapName,
  fromConfigMap,
  toConfigMapData,
} from "../../../components/fingerprint/store";
import { PROMOTION_CONFIGMAP, type JobRecordConfig } from "../../../components/contracts/stack-outputs";
import { KubeConflict, createConfigMap, getConfigMap, replaceConfigMap, type ConfigMapObject } from "./kube-configmaps";
import type { KubeApi } from "../../common/kube-api";

/** The key of the aliases in PROMOTION_CONFIGMAP. */
export const PROMOTION_KEY = "aliases.json";

type Aliases = Readonly<Record<string, { readonly targets: readonly { model: string; weight: number }[] }>>;

/** What was read: each model's record (absent = first deploy) and the resourceVersion to write against. */
export interface ReadRecord {
  readonly fingerprints: Record<string, Fingerprint>;
  readonly aliases?: Aliases;
  readonly versions: ReadonlyMap<string, string>;
}

const labels = (model?: string) => ({
  "app.kubernetes.io/managed-by": "retrieval-stack-verifier",
  ...(model ? { [FINGERPRINT_LABEL]: model } : {}),
});

/**
 * Reads the models' fingerprints and, when the promotion gate runs (`withAliases`), the last deploy's aliases:
 * only the objects the Job's Role names (a GET of another is a 403).
 */
export async function readRecord(
  api: KubeApi,
  rec: JobRecordConfig,
  models: readonly string[],
  withAliases: boolean,
): Promise<ReadRecord> {
  const fingerprints: Record<string, Fingerprint> = {};
  const versions = new Map<string, string>();
  for (const model of models) {
    const cm = await getConfigMap(api, rec.namespace, fingerprintConfigMapName(model));
    if (!cm) continue;
    if (cm.metadata.resourceVersion) versions.set(cm.metadata.name, cm.metadata.resourceVersion);
    let f: Fingerprint | undefined;
    try {
      f = fromConfigMap(model, cm);
    } catch (error) {
      // Never compare with (or silently replace) a record that does not hold together: a person decides.
      throw new Error(
        `${(error as Error).message}. Fix: restore configmap ${rec.namespace}/${cm.metadata.name}, or delete it (kubectl -n ${rec.namespace} delete configmap ${cm.metadata.name}) so that this deploy records ${model}'s fingerprint anew`,
      );
    }
    if (f) fingerprints[model] = f;
  }
  const p = withAliases ? await getConfigMap(api, rec.namespace, PROMOTION_CONFIGMAP) : undefined;
  if (p?.metadata.resourceVersion) versions.set(PROMOTION_CONFIGMAP, p.metadata.resourceVersion);
  const raw = p?.data?.[PROMOTION_KEY];
  return { fingerprints, versions, ...(raw ? { aliases: JSON.parse(raw) as Aliases } : {}) };
}

/**
 * Writes one object: create when it did not exist when read, else replace at the version read. A 409 (someone
 * wrote it since: another verification Job, a hand edit) is resolved by reading again: when what is stored now is
 * what this run wants to store, nothing is left to do; when it is still what this run compared with (only
 * metadata changed), the write is retried once at the new version; otherwise the run fails and says so, rather
 * than overwrite a record it never compared with.
 */
async function writeObject(
  api: KubeApi,
  ns: string,
  desired: ConfigMapObject,
  version: string | undefined,
  sameContent: (stored: ConfigMapObject) => "desired" | "compared" | "other",
): Promise<"created" | "replaced" | "unchanged"> {
  const attempt = (v: string | undefined) =>
    v === undefined
      ? createConfigMap(api, ns, desired).then(() => "created" as const)
      : replaceConfigMap(api, ns, { ...desired, metadata: { ...desired.metadata, resourceVersion: v } }).then(
          () => "replaced" as const,
        );
  try {
    return await attempt(version);
  } catch (error) {
    if (!(error instanceof KubeConflict)) throw error;
    const now = await getConfigMap(api, ns, desired.metadata.name);
    const state = now ? sameContent(now) : "compared";
    if (state === "desired") return "unchanged";
    if (state === "compared") return attempt(now?.metadata.resourceVersion);
    throw new Error(
      `configmap ${ns}/${desired.metadata.name} was changed by someone else while this verification ran (${error.reason}); nothing was overwritten. Fix: run \`pulumi up\` again (it compares with the new record)`,
    );
  }
}

/** Writes the kept fingerprints that differ from what was read, and the aliases; returns one line per write. */
export async function writeRecord(
  api: KubeApi,
  rec: JobRecordConfig,
  read: ReadRecord,
  keep: Readonly<Record<string, Fingerprint>>,
  aliases: Aliases | undefined,
): Promise<string[]> {
  const lines: string[] = [];
  for (const [model, f] of Object.entries(keep)) {
    const before = read.fingerprints[model];
    if (before?.id === f.id) continue;
    const name = fingerprintConfigMapName(model);
    const desired: ConfigMapObject = {
      metadata: { name, namespace: rec.namespace, labels: labels(model) },
      ...toConfigMapData(model, f),
    };
    const idOf = (cm: ConfigMapObject) => {
      try {
        return fromConfigMap(model, cm)?.id;
      } catch {
        return undefined;
      }
    };
    const outcome = await writeObject(api, rec.namespace, desired, read.versions.get(name), (stored) => {
      const id = idOf(stored);
      return id === f.id ? "desired" : id === before?.id ? "compared" : "other";
    });
    lines.push(`${model}: fingerprint ${f.id} ${outcome === "unchanged" ? "already stored" : outcome} in ${name}`);
  }
  if (aliases) {
    const text = JSON.stringify(aliases);
    if (JSON.stringify(read.aliases) !== text) {
      const desired: ConfigMapObject = {
        metadata: { name: PROMOTION_CONFIGMAP, namespace: rec.namespace, labels: labels() },
        data: { [PROMOTION_KEY]: text },
      };
      const before = read.aliases ? JSON.stringify(read.aliases) : undefined;
      await writeObject(api, rec.namespace, desired, read.versions.get(PROMOTION_CONFIGMAP), (stored) => {
        const s = stored.data?.[PROMOTION_KEY];
        return s === text ? "desired" : s === before ? "compared" : "other";
      });
      lines.push(`aliases of this deploy stored in ${PROMOTION_CONFIGMAP}`);
    }
  }
  return lines;
}
