/**
 * Where a recorded fingerprint lives in the cluster: one ConfigMap per model (`fingerprint-<model>`), in the
 * models' namespace, so that a stack of many large models never puts them all into one object (a 1024-dim
 * fingerprint is ~90 KB; a ConfigMap holds at most 1 MiB: components/k8s/object-size.ts), and the quality canary
 * mounts them (one projected volume, each source optional) instead of carrying them in its own config.
 *
 * An embedding fingerprint's unit vectors go into `binaryData` as raw little-endian float16, one probe after the
 * other in the order of `probes` (the kubelet writes binaryData keys as files of those bytes: kubernetes
 * pkg/volume/configmap/configmap.go MakePayload, read 2026-12-07); everything else (key, id, probe ids, norms) is
 * JSON in `data`. A rerank fingerprint is JSON only. Keys are named after the model, so that every model's files
 * can share the canary's one mount directory. Pure: the shapes and their round trip; writing is the verifier's
 * (images/verifier/src/record-store.ts) or Pulumi's (components/verification, local mode).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import type { Fingerprint } from "./fingerprint";
import { FingerprintKeySchema, FingerprintSchema } from "./schema";

/** The ConfigMap of one model's recorded fingerprint. */
export const fingerprintConfigMapName = (model: string) => `fingerprint-${model}`;
/** Its JSON key (`data`) and its float16 key (`binaryData`). */
export const fingerprintJsonKey = (model: string) => `${model}.fingerprint.json`;
export const fingerprintUnitsKey = (model: string) => `${model}.fingerprint.f16`;
/** Label on every fingerprint ConfigMap (kubectl get cm -l ...). */
export const FINGERPRINT_LABEL = "retrieval-stack.io/fingerprint-of";

/** The JSON part: the fingerprint without its vectors; `dims` says how many float16 values each probe has. */
const StoredSchema = z.discriminatedUnion("task", [
  z.strictObject({
    task: z.literal("embed"),
    key: FingerprintKeySchema,
    probeSet: z.string(),
    id: z.string(),
    dims: z.number().int().nonnegative(),
    probes: z.array(z.strictObject({ id: z.string(), norm: z.number() })),
  }),
  z.strictObject({
    task: z.literal("rerank"),
    key: FingerprintKeySchema,
    probeSet: z.string(),
    id: z.string(),
    probes: z.array(z.strictObject({ id: z.string(), scores: z.array(z.number()) })),
  }),
]);

/** `data` (strings) and `binaryData` (base64, as the API carries it) of a model's fingerprint ConfigMap. */
interface FingerprintConfigMapData {
  readonly data: Record<string, string>;
  readonly binaryData: Record<string, string>;
}

export function toConfigMapData(model: string, f: Fingerprint): FingerprintConfigMapData {
  if (f.task === "rerank") {
    const { task, key, probeSet, id, probes } = f;
    return {
      data: { [fingerprintJsonKey(model)]: JSON.stringify({ task, key, probeSet, id, probes }) },
      binaryData: {},
    };
  }
  const units = f.probes.map((p) => Buffer.from(p.unit, "base64"));
  const dims = units.length ? units[0]!.length / 2 : 0;
  if (units.some((u) => u.length !== dims * 2))
    throw new Error(`fingerprint ${f.id} of ${model}: its probes' vectors differ in length`);
  const stored = {
    task: f.task,
    key: f.key,
    probeSet: f.probeSet,
    id: f.id,
    dims,
    probes: f.probes.map((p) => ({ id: p.id, norm: p.norm })),
  };
  return {
    data: { [fingerprintJsonKey(model)]: JSON.stringify(stored) },
    binaryData: { [fingerprintUnitsKey(model)]: Buffer.concat(units).toString("base64") },
  };
}

/**
 * The fingerprint back from its JSON and float16 bytes; throws naming the model when they do not fit together
 * (a truncated or foreign object must never become the reference a deploy is judged against).
 */
function fromStored(model: string, json: string, units: Buffer | undefined): Fingerprint {
  const parsed = StoredSchema.safeParse(JSON.parse(json));
  if (!parsed.success)
    throw new Error(
      `recorded fingerprint of ${model} is not in the expected shape: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const s = parsed.data;
  if (s.task === "rerank") return FingerprintSchema.parse(s) as Fingerprint;
  const stride = s.dims * 2;
  if (!units || units.length !== stride * s.probes.length)
    throw new Error(
      `recorded fingerprint of ${model}: expected ${s.probes.length} x ${s.dims} float16 values (${stride * s.probes.length} bytes), found ${units?.length ?? 0} bytes`,
    );
  return {
    task: "embed",
    key: s.key,
    probeSet: s.probeSet,
    id: s.id,
    probes: s.probes.map((p, i) => ({
      id: p.id,
      norm: p.norm,
      unit: units.subarray(i * stride, (i + 1) * stride).toString("base64"),
    })),
  };
}

/** From a ConfigMap as the API returns it (binaryData base64); undefined when it holds no record for the model. */
export function fromConfigMap(
  model: string,
  cm: { data?: Record<string, string> | null; binaryData?: Record<string, string> | null },
): Fingerprint | undefined {
  const json = cm.data?.[fingerprintJsonKey(model)];
  if (json === undefined) return undefined;
  const units = cm.binaryData?.[fingerprintUnitsKey(model)];
  return fromStored(model, json, units === undefined ? undefined : Buffer.from(units, "base64"));
}

/**
 * From the canary's mount directory (a projected volume of every model's ConfigMap, each optional): undefined
 * while the model has no record yet (no file). Read on every run: the kubelet refreshes a mounted ConfigMap, so a
 * re-recorded fingerprint reaches the canary without a restart.
 */
export function readMountedFingerprint(dir: string, model: string): Fingerprint | undefined {
  const jsonFile = path.join(dir, fingerprintJsonKey(model));
  if (!fs.existsSync(jsonFile)) return undefined;
  const unitsFile = path.join(dir, fingerprintUnitsKey(model));
  return fromStored(
    model,
    fs.readFileSync(jsonFile, "utf8"),
    fs.existsSync(unitsFile) ? fs.readFileSync(unitsFile) : undefined,
  );
}
