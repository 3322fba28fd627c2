import type { SummarySection } from "./summary";
import { verificationModeOf } from "../components/config/verification";
import { PROMETHEUS_URL } from "../components/k8s/namespaces";
import { aliasSwitchOf } from "../components/validation/alias-switch";

interface TargetRow {
  name: string;
  dialect: string;
  task: string;
  url: string;
  route?: string;
  dims?: number;
  normalized?: boolean;
  sloP99Ms?: number;
  /** Scale-to-zero models: how long the verifier waits for them to come up. */
  wakeTimeoutSeconds?: number;
}

const CHECKS: Record<string, string> = {
  embed:
    "single + batch (zh/en), dims, finite, unit norm when normalised, batch consistency, paraphrase > unrelated (zh, en), latency",
  rerank:
    "the built-in rerank example (asyncio+aiohttp first), indices, scores ordered, top_n where supported, latency",
};
/** Through an ingress route only the task endpoint is reachable: health and the model list are checked in-cluster only. */
const checksOf = (t: TargetRow) => `${t.route ? "" : "health, model served, "}${CHECKS[t.task] ?? ""}`;

/** The model-change gates that apply (docs/model-changes.md): fingerprints, and promotion per alias. */
function gateLines(config: Parameters<SummarySection>[0]["config"], mode: "job" | "local"): string[] {
  const f = config.verification.fingerprint;
  const p = config.verification.promotion;
  const recordedWhere =
    mode === "job"
      ? "by the verification Job in each model's ConfigMap `fingerprint-<model>`"
      : "in the local verification resource's state (and each model's ConfigMap `fingerprint-<model>` for the canary)";
  const gateWhere =
    mode === "job"
      ? `run by the verification Job before its checks, against ${p.prometheusUrl ?? PROMETHEUS_URL}`
      : `run by \`pulumi up\` in local verification mode, from verification.promotion.prometheusUrl${p.prometheusUrl ? ` (${p.prometheusUrl})` : " (not set: a promotion fails until it is)"}`;
  const out = [
    f.enabled
      ? `- Fingerprints: each engine's answers to the fixed probes in its languages against the recorded fingerprint (embeddings: per-probe cosine ≥ ${f.minCosine}, norm change ≤ ${f.maxNormChange * 100} %; rerank: Kendall tau ≥ ${f.minKendallTau}, top-3 overlap ≥ ${f.minTop3Overlap}, score change ≤ ${f.maxScoreChange * 100} % of the range). The first verified deploy records ${recordedWhere}; a drift fails the deploy unless \`models[].reindexConfirmed\` names it.`
      : "- Fingerprints: off (verification.fingerprint.enabled false).",
  ];
  for (const [alias, a] of Object.entries(config.gateway?.aliases ?? {})) {
    const change = config.gateway?.enabled ? aliasSwitchOf(config, a) : undefined;
    if (change?.kind === "gated")
      out.push(
        `- Alias switch \`${alias}\`: ${change.from} -> ${change.to} without a re-index (same weights: ${change.weights}). ${change.to}'s answers are compared with ${change.from}'s recorded fingerprint (the tolerances above); a mismatch, or no record of ${change.from}, fails the deploy (docs/model-changes.md#embedding-aliases).`,
      );
    if (a.shadow)
      out.push(
        `- Alias \`${alias}\`: shadow ${a.shadow.model} gets ${a.shadow.sampleRate * 100} % of its calls (after the caller's answer; at most ${a.shadow.maxInFlight} at once per replica, ${a.shadow.timeoutSeconds} s).`,
      );
    if (a.shadow || a.targets.length > 1)
      out.push(
        `- Promotion gate for \`${alias}\` (docs/model-changes.md; ${gateWhere}): raising a candidate's share needs, over ${p.window}, ≥ ${p.minShadowCalls} compared shadow calls with mean Kendall tau ≥ ${p.minKendallTau}, top-3 overlap ≥ ${p.minTop3Overlap}, NDCG@10 ≥ ${p.minNdcgAt10}, and canary MRR@10/NDCG@10 at most ${p.maxQualityDrop} below the current model's${p.override ? ` - OVERRIDDEN: "${p.override}"` : ""}.`,
      );
  }
  return out;
}

/** plan.md "Post-deploy verification": how `pulumi up` proves every model, and what each is checked against. */
export const verificationSummary: SummarySection = ({ config, plan }) => {
  const v = config.verification;
  const mode = verificationModeOf(v, config.environment);
  const lines = ["## Post-deploy verification", ""];
  if (mode === "off")
    return [
      ...lines,
      "- **off**: `pulumi up` does not verify the models (`retrieval-stack verify` still can, by hand).",
    ].join("\n");
  let targets: TargetRow[] = [];
  const job = plan.objects.find((o) => o.kind === "Job" && String(o.metadata?.name ?? "").startsWith("verify-"));
  if (mode === "job" && job) {
    const spec = (job as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }).spec;
    const cm = plan.objects.find((o) => o.kind === "ConfigMap" && o.metadata?.name === job.metadata?.name) as
      { data?: Record<string, string> } | undefined;
    targets = cm?.data?.["verification.json"]
      ? (JSON.parse(cm.data["verification.json"]) as { targets: TargetRow[] }).targets
      : [];
    lines.push(
      `- **job**: Job \`${job.metadata?.namespace}/${job.metadata?.name}\` (image \`${spec?.template?.spec?.containers?.[0]?.image}\`), awaited by \`pulumi up\` after every model; a failed check fails the Job and the deploy. The name carries a hash of the models and options: it re-runs only when they change.`,
    );
    const deadline = (job as { spec?: { activeDeadlineSeconds?: number } }).spec?.activeDeadlineSeconds;
    const waking = targets.filter((t) => t.wakeTimeoutSeconds !== undefined);
    if (waking.length)
      lines.push(
        `- Scale-to-zero models are woken by the Job's own pod (their ScaledObjects count it as demand) and awaited first: ${waking.map((t) => `${t.name} up to ${t.wakeTimeoutSeconds} s`).join(", ")}; Job deadline ${deadline} s.`,
      );
  } else {
    const local = plan.resources.find((r) => r.type.endsWith(":LocalVerification"));
    targets = ((local?.inputs as { targets?: TargetRow[] } | undefined)?.targets ?? []) as TargetRow[];
    lines.push(
      "- **local**: the machine running `pulumi up` runs the checks after every model (a dynamic resource); a failed check fails the deploy with the report. Re-runs only when the models or options change.",
    );
  }
  lines.push(
    `- Latency: ${v.requests} requests at concurrency ${v.concurrency}, p99 against each model's SLO; load generator measured against an instant local server. Budget ${v.timeoutSeconds} s per model, ${v.requestTimeoutSeconds} s per attempt, ${v.maxRetries} retries on transient errors.`,
    `- Quality (MRR@10 on the bundled zh/en set, the part in each model's languages, or the model's own set): ${v.quality.enabled ? `on, threshold ${v.quality.minMrrAt10} unless a model sets its own` : "off"}.`,
    ...gateLines(config, mode),
    "",
    "| model | task | dialect | called at | dims | SLO p99 | checks |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...targets.map(
      (t) =>
        `| ${t.name} | ${t.task} | ${t.dialect} | \`${t.url}${t.route ?? ""}\` | ${t.dims ?? "–"}${t.normalized ? " (unit norm)" : ""} | ${t.sloP99Ms ?? "–"} ms | ${checksOf(t)} |`,
    ),
    "",
    "By hand, any time: `retrieval-stack verify --stack <stack>` (docs/verification.md).",
  );
  return lines.join("\n");
};
