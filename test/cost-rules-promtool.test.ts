import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { buildCostRuleGroups } from "../components/observability/cost/rules";
import { COST_SERIES as S } from "../components/observability/cost/names";
import { WORK_COUNTER } from "../components/observability/cost/work";
import { run } from "./fixtures/promtool/tool";
import { apt, findTool, missingToolTest } from "./fixtures/tools";
import { INPUT, NS, counter, nodeSeries, podSeries } from "./fixtures/cost";

/**
 * The cost recording rules and budget alerts under `promtool test rules`, on synthetic kube-state-metrics and
 * gateway series for the stack of test/fixtures/cost.ts. Dollar figures are compared as micro-dollars per hour
 * (round(x * 1e6)), so that the hand computation is exact.
 */
const promtool = findTool("promtool", apt("prometheus"));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cost-promtool-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const groups = buildCostRuleGroups(INPUT);
const rulesFile = path.join(dir, "cost-rules.yaml");
fs.writeFileSync(rulesFile, YAML.stringify({ groups }, { lineWidth: 0 }));
const budgetFile = path.join(dir, "budget-rules.yaml");
fs.writeFileSync(
  budgetFile,
  YAML.stringify({ groups: groups.filter((g) => g.name.includes("budget")) }, { lineWidth: 0 }),
);

interface Sample {
  labels: string;
  value: number;
}
interface ExprTest {
  expr: string;
  eval_time: string;
  exp_samples: Sample[];
}
interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: { exp_labels: Record<string, string>; exp_annotations?: Record<string, string> }[];
}
interface Case {
  name: string;
  rules: string;
  evaluation_interval: string;
  interval: string;
  input_series: { series: string; values: string }[];
  promql_expr_test?: ExprTest[];
  alert_rule_test?: AlertTest[];
}

let n = 0;
function promtoolTest(c: Case) {
  const file = path.join(dir, `test-${n++}.yaml`);
  const { name: _n, rules, evaluation_interval, ...test } = c;
  fs.writeFileSync(
    file,
    YAML.stringify(
      { rule_files: [path.basename(rules)], evaluation_interval, tests: [{ alert_rule_test: [], ...test }] },
      { lineWidth: 0 },
    ),
  );
  return run(promtool, ["test", "rules", path.basename(file)], dir);
}

/** micro-USD per hour of a series, one sample per label set. */
const micro = (series: string, eval_time: string, samples: [string, number][]): ExprTest => ({
  expr: `round(${series} * 1e6)`,
  eval_time,
  exp_samples: samples.map(([labels, value]) => ({ labels, value })),
});

const T = WORK_COUNTER.tokens;
/** Nodes: l4 (4 slices of one L4), a10 (spot), system. Pods: emb 1 slice and rr 2 slices on n1, big on n2. */
function steadyCluster(rrSteps = 120, rrGone = false) {
  return [
    ...nodeSeries("n1", "l4", "g6.xlarge", 4),
    ...nodeSeries("n2", "a10", "g5.xlarge", 1),
    ...nodeSeries("s1", "system", "m6i.large", 0),
    ...podSeries("emb-0", "emb", "n1", 1, "Running"),
    ...podSeries("rr-0", "rr", "n1", 2, "Running", rrSteps, rrGone),
    ...podSeries("rr-1", "rr", "n2", 2, "Pending"),
    ...podSeries("big-0", "big", "n2", 1, "Running"),
    // emb: team-a 10 tokens/s, team-b 30 tokens/s; rr: team-a 1 token/s; big: team-b sends nothing.
    counter(T, "team-a", "emb", 600),
    counter(T, "team-b", "emb", 1800),
    counter(T, "team-a", "rr", 60),
    counter(T, "team-b", "big", 0),
  ];
}

const sumsHold = (eval_time: string): ExprTest => ({
  // per-key costs + idle = model cost, for every model (one without any key counts only idle).
  expr: `abs((sum by (model) (${S.keyCost}) or ${S.modelCost} * 0) + on(model) ${S.idleCost} - on(model) ${S.modelCost}) < bool 1e-12`,
  eval_time,
  exp_samples: ["emb", "rr", "big", "zero"].map((m) => ({ labels: `{model="${m}"}`, value: 1 })),
});

const CASES: Case[] = [
  {
    name: "steady state: node prices, partial GPUs (time-slicing), spot, fixed part, keys and idle",
    rules: rulesFile,
    evaluation_interval: "1m",
    interval: "1m",
    input_series: steadyCluster(),
    promql_expr_test: [
      micro(S.nodeCost, "10m", [
        ['{instance_type="g6.xlarge",node="n1",node_group="l4"}', 804800],
        ['{instance_type="g5.xlarge",node="n2",node_group="a10"}', 400000],
        ['{instance_type="m6i.large",node="s1",node_group="system"}', 96000],
      ]),
      {
        expr: S.podGpuShare,
        eval_time: "10m",
        exp_samples: [
          { labels: `${S.podGpuShare}{model="emb",namespace="${NS}",node="n1",pod="emb-0"}`, value: 0.25 },
          { labels: `${S.podGpuShare}{model="rr",namespace="${NS}",node="n1",pod="rr-0"}`, value: 0.5 },
          { labels: `${S.podGpuShare}{model="big",namespace="${NS}",node="n2",pod="big-0"}`, value: 1 },
        ],
      },
      // 0.25 x 0.8048, 0.5 x 0.8048, 1 x 0.40 (spot), 0 (no pod: scaled to zero).
      micro(S.modelCost, "10m", [
        ['{model="emb"}', 201200],
        ['{model="rr"}', 402400],
        ['{model="big"}', 400000],
        ['{model="zero"}', 0],
      ]),
      // Hourly sums over an hour of one-minute evaluations of a steady rate: the rate itself.
      micro(`${S.keyCostHourly}{model="emb"}`, "120m", [
        ['{key="team-a",model="emb"}', 20120],
        ['{key="team-b",model="emb"}', 60360],
      ]),
      {
        expr: `round(${S.keyWorkHourly}{model="emb"})`,
        eval_time: "120m",
        exp_samples: [
          { labels: '{key="team-a",model="emb"}', value: 36000 },
          { labels: '{key="team-b",model="emb"}', value: 108000 },
        ],
      },
      micro(S.unallocated, "10m", [
        ['{node_group="l4"}', 201200],
        ['{node_group="a10"}', 0],
      ]),
      micro(S.fixedCost, "10m", [
        ['{component="control-plane"}', 100000],
        ['{component="system-nodes"}', 96000],
      ]),
      // emb: 40 tokens/s of 100 per replica; rr: work and no throughput figure = 1; big: no work.
      micro(S.modelUtilisation, "10m", [
        ['{model="emb"}', 400000],
        ['{model="rr"}', 1000000],
        ['{model="big"}', 0],
        ['{model="zero"}', 0],
      ]),
      // emb: 0.2012 x 0.4 x 10/40 and x 30/40; rr: all of it to team-a.
      micro(S.keyCost, "10m", [
        ['{key="team-a",model="emb"}', 20120],
        ['{key="team-b",model="emb"}', 60360],
        ['{key="team-a",model="rr"}', 402400],
        ['{key="team-b",model="big"}', 0],
      ]),
      micro(S.idleCost, "10m", [
        ['{model="emb"}', 120720],
        ['{model="rr"}', 0],
        ['{model="big"}', 400000],
        ['{model="zero"}', 0],
      ]),
      // $0.2012/h over 40 tokens/s = $1.397 per million tokens; rr $0.4024/h over 1 token/s = $111.78.
      {
        expr: `round(${S.usdPerMillionWork} * 1000)`,
        eval_time: "10m",
        exp_samples: [
          { labels: '{model="emb"}', value: 1397 },
          { labels: '{model="rr"}', value: 111778 },
        ],
      },
      sumsHold("10m"),
      {
        // GPU node group cost = its models' cost + unallocated.
        expr: `abs(sum by (node_group) (${S.modelNodeGroupCost}) + on(node_group) ${S.unallocated} - on(node_group) ${S.nodeGroupCost}) < bool 1e-12`,
        eval_time: "10m",
        exp_samples: [
          { labels: '{node_group="l4"}', value: 1 },
          { labels: '{node_group="a10"}', value: 1 },
        ],
      },
      {
        expr: S.modelInfo,
        eval_time: "10m",
        exp_samples: [
          { labels: `${S.modelInfo}{model="emb",task="embed",work="tokens"}`, value: 1 },
          { labels: `${S.modelInfo}{model="rr",task="rerank",work="tokens"}`, value: 1 },
          { labels: `${S.modelInfo}{model="big",task="embed",work="tokens"}`, value: 1 },
          { labels: `${S.modelInfo}{model="zero",task="rerank",work="tokens"}`, value: 1 },
        ],
      },
    ],
  },
  {
    name: "scale to zero: rr's pod goes at minute 10; its cost, keys and idle drop to 0, its slices become unallocated",
    rules: rulesFile,
    evaluation_interval: "1m",
    interval: "1m",
    input_series: steadyCluster(10, true),
    promql_expr_test: [
      micro(`${S.modelCost}{model="rr"}`, "8m", [['{model="rr"}', 402400]]),
      micro(`${S.modelCost}{model="rr"}`, "20m", [['{model="rr"}', 0]]),
      micro(`${S.keyCost}{model="rr"}`, "20m", [['{key="team-a",model="rr"}', 0]]),
      micro(`${S.idleCost}{model="rr"}`, "20m", [['{model="rr"}', 0]]),
      micro(`${S.unallocated}{node_group="l4"}`, "20m", [['{node_group="l4"}', 603600]]),
      sumsHold("20m"),
    ],
  },
  {
    name: "no traffic at all: every model's cost is idle, no key pays",
    rules: rulesFile,
    evaluation_interval: "1m",
    interval: "1m",
    input_series: steadyCluster().filter((s) => !s.series.startsWith(T)),
    promql_expr_test: [
      micro(S.idleCost, "10m", [
        ['{model="emb"}', 201200],
        ['{model="rr"}', 402400],
        ['{model="big"}', 400000],
        ['{model="zero"}', 0],
      ]),
      { expr: S.keyCost, eval_time: "10m", exp_samples: [] },
    ],
  },
  {
    name: "budgets: team-a spends $5 an hour against $25: warning at 80 %, exhausted at 100 %; team-b far below",
    rules: budgetFile,
    evaluation_interval: "1h",
    interval: "1h",
    input_series: [
      { series: `${S.keyCostHourly}{key="team-a",model="emb"}`, values: "5x10" },
      { series: `${S.keyCostHourly}{key="team-b",model="emb"}`, values: "5x10" },
      { series: S.month, values: "1x10" },
    ],
    promql_expr_test: [
      // Hours ending at 1h, 2h, 3h (the sample at 0 covers the last hour of December 1969).
      {
        expr: S.keySpendMonthToDate,
        eval_time: "3h",
        exp_samples: [
          { labels: `${S.keySpendMonthToDate}{key="team-a"}`, value: 15 },
          { labels: `${S.keySpendMonthToDate}{key="team-b"}`, value: 15 },
        ],
      },
    ],
    alert_rule_test: [
      { eval_time: "3h", alertname: "KeyBudgetWarning", exp_alerts: [] },
      {
        eval_time: "4h",
        alertname: "KeyBudgetWarning",
        exp_alerts: [
          {
            exp_labels: { key: "team-a", severity: "info", scope: "key" },
            exp_annotations: {
              summary: "Key team-a has spent 80% of its monthly GPU budget",
              description:
                "The GPU cost attributed to key team-a since the first of the month (UTC) is at least 80 % of its cost.budgets entry.",
              runbook_url: "https://runbooks.example.invalid/runbooks.md#keybudgetwarning",
            },
          },
        ],
      },
      { eval_time: "4h", alertname: "KeyBudgetExhausted", exp_alerts: [] },
      {
        eval_time: "5h",
        alertname: "KeyBudgetExhausted",
        exp_alerts: [
          {
            exp_labels: { key: "team-a", severity: "warning", scope: "key" },
            exp_annotations: {
              summary: "Key team-a has spent its monthly GPU budget (100%)",
              description: "Nothing is refused (cost.refuseOverBudget is off): raise the budget or talk to the team.",
              runbook_url: "https://runbooks.example.invalid/runbooks.md#keybudgetexhausted",
            },
          },
        ],
      },
      { eval_time: "5h", alertname: "KeyBudgetWarning", exp_alerts: [] },
    ],
  },
  {
    name: "month to date starts again on the first of the month (UTC): $1/h through 31 January into February",
    rules: budgetFile,
    evaluation_interval: "1h",
    interval: "1h",
    input_series: [
      { series: `${S.keyCostHourly}{key="team-a",model="emb"}`, values: "1x750" },
      // 744 h after the epoch is 1 February 1970, 00:00 UTC.
      { series: S.month, values: "1x743 2x6" },
    ],
    promql_expr_test: [
      {
        expr: S.keySpendMonthToDate,
        eval_time: "743h",
        exp_samples: [{ labels: `${S.keySpendMonthToDate}{key="team-a"}`, value: 743 }],
      },
      { expr: S.keySpendMonthToDate, eval_time: "744h", exp_samples: [] },
      {
        expr: S.keySpendMonthToDate,
        eval_time: "746h",
        exp_samples: [{ labels: `${S.keySpendMonthToDate}{key="team-a"}`, value: 2 }],
      },
    ],
  },
];

describe("cost recording rules and budget alerts under promtool", () => {
  if (!promtool.path) {
    missingToolTest(promtool);
    return;
  }
  it("promtool check rules accepts the cost rules", () => {
    const r = run(promtool, ["check", "rules", rulesFile]);
    expect(r.status, r.output).toBe(0);
  });
  for (const c of CASES)
    it(c.name, () => {
      const r = promtoolTest(c);
      expect(r.status, r.output).toBe(0);
    });
  it("a wrong hand computation fails (the harness can fail)", () => {
    const c = CASES[0]!;
    const r = promtoolTest({
      ...c,
      promql_expr_test: [micro(S.modelCost, "10m", [['{model="emb"}', 201201]])],
    });
    expect(r.status).not.toBe(0);
  });
});
