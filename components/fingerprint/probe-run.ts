/**
 * Takes a model's fingerprint over HTTP and judges it against the recorded one. The client is anything with the
 * verifier's embed/rerank calls (components/verifier/client.ts EngineClient fits), so the verifier's check, the
 * canary and the tests share this code. A rerank answer is validated before it is used: a duplicated or
 * out-of-range index, a missing document or a non-finite score throws instead of becoming a fingerprint.
 */
import {
  compareEmbed,
  compareRerank,
  confirmationId,
  driftMessage,
  embedFingerprint,
  keyText,
  rerankFingerprint,
  DEFAULT_TOLERANCE,
  type Comparison,
  type Fingerprint,
  type FingerprintKey,
  type FingerprintTolerance,
} from "./fingerprint";
import { EMBED_PROBES, RERANK_PROBES, probesFor } from "./probes";

interface ProbeClient {
  embed(inputs: readonly string[], dimensions?: number): Promise<{ value: number[][] }>;
  rerank(query: string, documents: readonly string[]): Promise<{ value: readonly { index: number; score: number }[] }>;
}

/** Inputs per embedding request (TEI refuses more than 32 by default). */
const BATCH = 16;

interface TakenFingerprint {
  readonly fingerprint: Fingerprint;
  /** The answers at full precision, by probe id (vectors, or scores in document order). */
  readonly answers: ReadonlyMap<string, readonly number[]>;
}

export async function takeFingerprint(
  client: ProbeClient,
  task: "embed" | "rerank",
  key: FingerprintKey,
  languages?: readonly string[],
  dimensions?: number,
): Promise<TakenFingerprint> {
  const answers = new Map<string, number[]>();
  if (task === "embed") {
    const probes = probesFor(EMBED_PROBES, languages);
    for (let i = 0; i < probes.length; i += BATCH) {
      const chunk = probes.slice(i, i + BATCH);
      const vectors = (
        await client.embed(
          chunk.map((p) => p.text),
          dimensions,
        )
      ).value;
      if (vectors.length !== chunk.length) throw new Error(`${vectors.length} vectors for ${chunk.length} probe texts`);
      chunk.forEach((p, j) => answers.set(p.id, vectors[j]!));
    }
    return {
      fingerprint: embedFingerprint(
        key,
        [...answers].map(([id, vector]) => ({ id, vector })),
      ),
      answers,
    };
  }
  for (const p of probesFor(RERANK_PROBES, languages)) {
    const results = (await client.rerank(p.query, p.documents)).value;
    const scores = new Array<number>(p.documents.length).fill(NaN);
    for (const r of results) {
      if (!Number.isInteger(r.index) || r.index < 0 || r.index >= p.documents.length)
        throw new Error(`rerank probe ${p.id}: index ${r.index} is not one of the ${p.documents.length} documents`);
      if (!Number.isNaN(scores[r.index]!)) throw new Error(`rerank probe ${p.id}: index ${r.index} appears twice`);
      if (!Number.isFinite(r.score)) throw new Error(`rerank probe ${p.id}: score ${r.score} is not a finite number`);
      scores[r.index] = r.score;
    }
    const absent = scores.findIndex((s) => Number.isNaN(s));
    if (absent >= 0) throw new Error(`rerank probe ${p.id}: no score for document ${absent}`);
    answers.set(p.id, scores);
  }
  return {
    fingerprint: rerankFingerprint(
      key,
      [...answers].map(([id, scores]) => ({ id, scores })),
    ),
    answers,
  };
}

type FingerprintStatus = "recorded" | "match" | "reindexed" | "drift";

interface FingerprintVerdict {
  readonly status: FingerprintStatus;
  readonly pass: boolean;
  /** The fingerprint to keep on record after this run. */
  readonly keep: Fingerprint;
  readonly comparison?: Comparison;
  readonly message: string;
}

/**
 * The verdict of one run: no record yet -> record this one; a match -> keep the record; drift -> fail, unless
 * `reindexConfirmed` names this very fingerprint (the user re-indexed): then this one replaces the record.
 */
export function judgeFingerprint(
  model: string,
  configPath: string,
  recorded: Fingerprint | undefined,
  current: TakenFingerprint,
  reindexConfirmed?: string,
  tol: FingerprintTolerance = DEFAULT_TOLERANCE,
): FingerprintVerdict {
  const now = current.fingerprint;
  if (!recorded || recorded.task !== now.task || recorded.probeSet !== now.probeSet)
    return {
      status: "recorded",
      pass: true,
      keep: now,
      message: `${model}: fingerprint ${now.id} recorded (${now.probes.length} probes; ${keyText(now.key)})`,
    };
  const comparison =
    recorded.task === "embed"
      ? compareEmbed(recorded, current.answers, tol)
      : compareRerank(recorded, current.answers, tol);
  if (comparison.pass)
    return {
      status: "match",
      pass: true,
      keep: recorded,
      comparison,
      message: `${model}: matches fingerprint ${recorded.id}: ${comparison.summary}`,
    };
  if (reindexConfirmed === confirmationId(recorded, now.key))
    return {
      status: "reindexed",
      pass: true,
      keep: now,
      comparison,
      message: `${model}: drift from ${recorded.id} confirmed as re-indexed (${configPath}.reindexConfirmed); ${now.id} is the new record: ${comparison.summary}`,
    };
  return {
    status: "drift",
    pass: false,
    keep: recorded,
    comparison,
    message: driftMessage(model, configPath, recorded, now, comparison),
  };
}

interface AliasSwitchVerdict {
  readonly pass: boolean;
  readonly comparison?: Comparison;
  readonly message: string;
}

/**
 * An embedding alias switched from `from` (the model its callers' indexes were built with) to `to`, which loads
 * the same weights: `to`'s answers taken in this run must match `from`'s RECORDED fingerprint, probe by probe,
 * with the drift tolerances (the keys differ by engine, version or dtype by design, so only the vectors are
 * compared). No record of `from`, or one that cannot be compared, fails: nothing then shows what the indexes hold.
 * Nothing is recorded here: `from`'s record stays `from`'s.
 */
export function judgeAliasSwitch(
  alias: string,
  from: string,
  to: string,
  fromRecorded: Fingerprint | undefined,
  current: TakenFingerprint,
  tol: FingerprintTolerance = DEFAULT_TOLERANCE,
): AliasSwitchVerdict {
  const fixes =
    `Fix: point the alias back at ${from} (gateway.aliases.${alias}.targets: [{ model: ${from} }]), or re-index ` +
    `with ${to} and set gateway.aliases.${alias}.indexedWith: ${to}.`;
  const switching = `alias ${alias}: switching from ${from} to ${to} without a re-index needs ${to}'s vectors to match ${from}'s recorded fingerprint`;
  if (!fromRecorded || fromRecorded.task !== "embed" || fromRecorded.probeSet !== current.fingerprint.probeSet)
    return {
      pass: false,
      message: `${switching}, and ${
        !fromRecorded
          ? `there is no record of ${from} (its fingerprint is recorded by its first verified deploy)`
          : fromRecorded.task !== "embed"
            ? `${from}'s record (${fromRecorded.id}) is a ${fromRecorded.task} fingerprint`
            : `${from}'s record (${fromRecorded.id}) is of probe set ${fromRecorded.probeSet}, this run's ${current.fingerprint.probeSet}`
      }: nothing shows what the callers' indexes hold. ${fixes} (Or deploy with the alias on ${from} first, so that its fingerprint is recorded, then switch again.)`,
    };
  const comparison = compareEmbed(fromRecorded, current.answers, tol);
  if (comparison.pass)
    return {
      pass: true,
      comparison,
      message: `alias ${alias}: ${to} (${keyText(current.fingerprint.key)}) matches ${from}'s recorded fingerprint ${fromRecorded.id} (${keyText(fromRecorded.key)}): ${comparison.summary}; the switch keeps the callers' indexes valid (${from}'s record stays ${from}'s)`,
    };
  return {
    pass: false,
    comparison,
    message:
      `${switching} ${fromRecorded.id} (${keyText(fromRecorded.key)}); ${to} (${keyText(current.fingerprint.key)}) does not: ` +
      `${comparison.summary}. Indexes built with ${from}'s vectors would quietly return worse results through the alias, ` +
      `which the gateway has routed to ${to} since this deploy's rollout: point it back now. ${fixes}`,
  };
}
