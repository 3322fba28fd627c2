/**
 * One canary run for one model: the verifier's health and embed/rerank checks (images/verifier/src/checks), then
 * MRR@10 and NDCG@10 on the bundled set and the user set. Results go into the registry as gauges per model and
 * check. A scale-to-zero model outside its active hours is skipped: no call at all.
 */
import { dialectNamed } from "../../../components/serving/dialects";
import { EngineClient } from "../../verifier/src/client";
import { DEFAULT_RETRY, Deadline } from "../../verifier/src/http";
import { routedDialect } from "../../verifier/src/routed";
import { DEFAULT_OPTIONS, type VerifyTarget } from "../../../components/contracts/verify-target";
import type { CheckContext } from "../../verifier/src/checks/context";
import { healthChecks } from "../../verifier/src/checks/health";
import { embedChecks } from "../../verifier/src/checks/embed";
import { rerankChecks } from "../../verifier/src/checks/rerank";
import type { CheckResult } from "../../verifier/src/report";
import { withinActiveHours } from "./active-hours";
import type { Fingerprint } from "../../../components/fingerprint/fingerprint";
import { judgeFingerprint, takeFingerprint } from "../../../components/fingerprint/probe-run";
import { readMountedFingerprint } from "../../../components/fingerprint/store";
import type { CanaryConfig, CanaryTarget } from "../../../components/contracts/canary";
import type { Registry } from "./metrics";
import { bundledSet, scoreSet, type LabelledSet } from "./quality";

interface RunOptions {
  readonly apiKey?: string;
  readonly userSet?: LabelledSet;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
}

/** Check names, the `check` label. */
type CanaryCheck = "health" | "sanity" | "quality.bundled" | "quality.user" | "fingerprint";

const passed = (rows: readonly CheckResult[]) => rows.every((r) => r.status !== "fail");

/** Runs every check for one target and records it; returns each check's success. */
export async function runTarget(
  target: CanaryTarget,
  config: Pick<CanaryConfig, "requestTimeoutSeconds" | "maxRetries" | "intervalSeconds" | "fingerprintDir">,
  registry: Registry,
  options: RunOptions = {},
): Promise<Partial<Record<CanaryCheck, boolean>>> {
  const now = options.now ?? (() => new Date());
  const model = target.name;
  const log = options.log ?? (() => {});
  if (target.scaleToZero && !(target.activeHours && withinActiveHours(target.activeHours, now()))) {
    // Outside its hours the model is meant to be at zero: no call (it would fail, or wake it through demand).
    registry.dropModel(model, ["lastRun"]);
    registry.set("skipped", { model }, 1);
    registry.set("lastRun", { model }, now().getTime() / 1000);
    log(`${model}: skipped (scale-to-zero model outside its active hours)`);
    return {};
  }
  registry.set("skipped", { model }, 0);
  const named = dialectNamed(target.dialect);
  if (!named) throw new Error(`${model}: unknown dialect "${target.dialect}"`);
  const dialect = target.route ? routedDialect(named, target.task, target.route) : named;
  // One run never outlives the interval: the next one starts on time.
  const deadline = new Deadline(config.intervalSeconds * 1000);
  const client = new EngineClient(target.url, dialect, target.servedModel, {
    apiKey: options.apiKey,
    requestTimeoutMs: config.requestTimeoutSeconds * 1000,
    retry: { ...DEFAULT_RETRY, maxRetries: config.maxRetries },
    deadline,
  });
  const verifyTarget = { ...target, normalized: target.normalized ?? false } as VerifyTarget;
  const ctx: CheckContext = {
    client,
    target: verifyTarget,
    options: { ...DEFAULT_OPTIONS, apiKey: options.apiKey, requestTimeoutSeconds: config.requestTimeoutSeconds },
    deadline,
  };
  const out: Partial<Record<CanaryCheck, boolean>> = {};
  const record = (check: CanaryCheck, ok: boolean, seconds: number, detail: string) => {
    out[check] = ok;
    registry.set("checkSuccess", { model, check }, ok ? 1 : 0);
    registry.set("latency", { model, check }, seconds);
    log(`${model}: ${check} ${ok ? "pass" : "FAIL"} (${seconds.toFixed(3)} s) ${detail}`);
  };
  const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const started = performance.now();
    const value = await f();
    return [value, (performance.now() - started) / 1000];
  };
  try {
    const [health, healthS] = await timed(() => healthChecks(ctx));
    const failed = (rows: readonly CheckResult[]) =>
      rows
        .filter((r) => r.status === "fail")
        .map((r) => `${r.check}: ${r.got}`)
        .join("; ");
    record("health", health.healthy && passed(health.results), healthS, failed(health.results));
    if (!health.healthy) {
      // Every other call would fail the same way. Quality is unknown, not low: drop its gauges (CanaryCheckFailing
      // speaks, ModelQualityLow stays quiet).
      registry.dropModel(model, ["checkSuccess", "latency", "lastRun", "skipped"]);
      return out;
    }
    const [sanity, sanityS] = await timed(() => (target.task === "embed" ? embedChecks(ctx) : rerankChecks(ctx)));
    record("sanity", passed(sanity), sanityS, failed(sanity));
    // The record: inline (tests, older configs) or the model's mounted ConfigMap, read on every run (the kubelet
    // refreshes it when a deploy re-records); none yet = nothing to compare with.
    let recorded: Fingerprint | undefined;
    let unreadable: string | undefined;
    try {
      recorded =
        (target.fingerprint?.recorded as Fingerprint | undefined) ??
        (target.fingerprint && config.fingerprintDir
          ? readMountedFingerprint(config.fingerprintDir, model)
          : undefined);
    } catch (error) {
      unreadable = (error as Error).message;
    }
    if (unreadable) record("fingerprint", false, 0, unreadable);
    if (target.fingerprint && recorded && passed(sanity)) {
      // Drift from the recorded fingerprint (#25): a gauge to graph and a 0/1 to alert on.
      const started = performance.now();
      try {
        const f = target.fingerprint;
        const taken = await takeFingerprint(client, target.task, f.key, target.languages, target.requestDimensions);
        const v = judgeFingerprint(model, f.configPath, recorded, taken, undefined, f.tolerance);
        registry.set("fingerprintDrift", { model }, 1 - (v.comparison?.minSimilarity ?? 1));
        registry.set("fingerprintMatch", { model }, v.pass ? 1 : 0);
        record("fingerprint", v.pass, (performance.now() - started) / 1000, v.message);
      } catch (error) {
        record("fingerprint", false, (performance.now() - started) / 1000, (error as Error).message);
      }
    }
    // The bundled set in the model's languages (none matching: not scored), then the model's own set or the user set.
    const bundled = bundledSet(target.task, target.languages);
    const own = target.labelledSet ? { name: "user", queries: target.labelledSet } : options.userSet;
    const sets = [...(bundled.queries.length ? [bundled] : []), ...(own ? [own] : [])];
    for (const set of sets) {
      const check = `quality.${set.name}` as CanaryCheck;
      const started = performance.now();
      try {
        const score = await scoreSet(client, target.task, set, target.requestDimensions);
        registry.set("mrrAt10", { model, set: set.name }, score.mrrAt10);
        registry.set("ndcgAt10", { model, set: set.name }, score.ndcgAt10);
        record(
          check,
          true,
          (performance.now() - started) / 1000,
          `MRR@10 ${score.mrrAt10.toFixed(3)}, NDCG@10 ${score.ndcgAt10.toFixed(3)} over ${score.queries} queries`,
        );
      } catch (error) {
        record(check, false, (performance.now() - started) / 1000, (error as Error).message);
      }
    }
    return out;
  } finally {
    deadline.dispose();
    registry.set("lastRun", { model }, now().getTime() / 1000);
  }
}

/** One run over every target, one after the other (the canary must not load the engines). */
export async function runAll(config: CanaryConfig, registry: Registry, options: RunOptions = {}): Promise<void> {
  for (const t of config.targets) {
    try {
      await runTarget(t, config, registry, options);
    } catch (error) {
      registry.set("checkSuccess", { model: t.name, check: "health" }, 0);
      options.log?.(`${t.name}: run failed: ${(error as Error).message}`);
    }
  }
}

/** The wait before the next run: the interval ± jitter, never below a tenth of the interval. */
export function nextDelayMs(
  config: Pick<CanaryConfig, "intervalSeconds" | "jitterSeconds">,
  random = Math.random,
): number {
  const jitter = (random() * 2 - 1) * config.jitterSeconds;
  return Math.max(config.intervalSeconds / 10, config.intervalSeconds + jitter) * 1000;
}
