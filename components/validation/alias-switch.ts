/**
 * An embedding alias switched from the model its callers' indexes were built with (`indexedWith`, A) to another
 * model (its target, B), judged from config alone (#25, docs/model-changes.md "Embedding aliases"). The switch is
 * either refused (B cannot serve A's vectors: other dimensions, other weights, weights not pinned, nothing that
 * would compare them) or gated: A and B load the same weights at the same dimensions (only the engine, its version
 * or the dtype differ), so the post-deploy verification compares B's fingerprint with A's recorded one and fails the
 * deploy on a mismatch. Shared by the config rule (the refusal) and the plan warning (the gate).
 */
import type { ModelConfig, PlatformConfig } from "../config";
import { verificationModeOf } from "../config/verification";
import { servedDims } from "../serving/context";

type AliasSwitch =
  | { readonly kind: "refused"; readonly from: string; readonly to: string; readonly why: string }
  | {
      readonly kind: "gated";
      readonly from: string;
      readonly to: string;
      /** What differs between the two models, e.g. `engine tei -> vllm, dtype auto -> float16`. */
      readonly differences: string;
      /** What both serve, e.g. `BAAI/bge-small-zh-v1.5@7999e1d, 512 dims`. */
      readonly weights: string;
    };

/** The one target of an embedding alias differs from its `indexedWith`: a switch, refused or gated. */
export function aliasSwitchOf(
  config: Partial<Pick<PlatformConfig, "models" | "verification" | "environment">>,
  alias: { readonly targets: readonly { model: string }[]; readonly indexedWith?: string },
): AliasSwitch | undefined {
  const from = alias.indexedWith;
  const to = alias.targets[0]?.model;
  if (from === undefined || to === undefined || from === to || alias.targets.length !== 1) return undefined;
  const models = config.models ?? [];
  const index = (name: string) => models.findIndex((m) => m?.name === name);
  const a = models[index(from)];
  const b = models[index(to)];
  if (!b || b.task !== "embed") return undefined; // other rules name an unknown or rerank target
  const refused = (why: string): AliasSwitch => ({ kind: "refused", from, to, why });
  if (!a)
    return refused(
      `${from} is not a model of this stack, so nothing shows that ${to} serves the same vectors (its recorded fingerprint is compared only while it is deployed)`,
    );
  if (a.task !== "embed") return refused(`${from} is a ${a.task} model: it built no vectors`);
  const dimsA = servedDims(a);
  const dimsB = servedDims(b);
  if (dimsA !== dimsB)
    return refused(
      `${to} serves ${dimsB ?? "?"}-dim vectors and ${from} ${dimsA ?? "?"}-dim ones: vectors of other sizes cannot match`,
    );
  if (a.model !== b.model)
    return refused(
      `${to} is ${b.model} and ${from} ${a.model}: other weights give other vectors, even at equal dimensions`,
    );
  const unpinned = [a, b].filter((m) => m.revision === undefined).map((m) => `models[${index(m.name)}].revision`);
  if (unpinned.length)
    return refused(
      `both load ${a.model}, but ${unpinned.join(" and ")} ${unpinned.length > 1 ? "are" : "is"} not pinned: a re-pull may load other weights, so nothing shows that the vectors can match`,
    );
  if (a.revision !== b.revision)
    return refused(
      `${to} loads ${b.model} at revision ${b.revision} and ${from} at ${a.revision}: other weights give other vectors, even at equal dimensions`,
    );
  // Same weights at the same dimensions: whether the vectors match is for the verification to prove.
  const v = config.verification;
  if (v && config.environment) {
    if (verificationModeOf(v, config.environment) === "off")
      return refused(
        `both load ${a.model}@${a.revision}, but verification.mode is off, so nothing would compare ${to}'s fingerprint with ${from}'s recorded one`,
      );
    if (!v.fingerprint.enabled)
      return refused(
        `both load ${a.model}@${a.revision}, but verification.fingerprint.enabled is false, so nothing would compare ${to}'s fingerprint with ${from}'s recorded one`,
      );
  }
  return {
    kind: "gated",
    from,
    to,
    differences: differencesOf(a, b) || "nothing but the name",
    weights: `${a.model}@${a.revision}, ${dimsA ?? "?"} dims`,
  };
}

function differencesOf(a: ModelConfig, b: ModelConfig): string {
  const fields: [string, (m: ModelConfig) => string][] = [
    ["engine", (m) => m.engine],
    ["engineVersion", (m) => m.engineVersion ?? "the adapter's pin"],
    ["dtype", (m) => m.dtype],
  ];
  return fields
    .filter(([, f]) => f(a) !== f(b))
    .map(([label, f]) => `${label} ${f(a)} -> ${f(b)}`)
    .join(", ");
}
