// Benchmark of `npm run plan` with the program's source maps off (the default) and on (what a failing program's
// re-run uses): wall time of N alternating runs each, on the given stack or a generated one with --models N
// (copies of the local stack's first model). Checks that both write byte-identical manifests.
// Usage: npx tsx scripts/bench-plan.ts [--stack local] [--models 100] [--runs 5]
// Scaling: npx tsx scripts/bench-plan.ts --scale 1,10,100,300,1000 [--stack local] [--limit-s 300]: one plan per
// size (source maps off), wall and CPU time and peak resident memory (/usr/bin/time %M), each run stopped after
// --limit-s seconds and given at most --heap-mb of V8 heap (so a runaway size ends as "out of memory", not a swap).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as YAML from "yaml";

const ROOT = path.resolve(__dirname, "..");
const { values } = parseArgs({
  options: {
    stack: { type: "string", default: "local" },
    models: { type: "string" },
    runs: { type: "string", default: "5" },
    scale: { type: "string" },
    "limit-s": { type: "string", default: "300" },
    "heap-mb": { type: "string", default: "4096" },
  },
});
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-plan-"));
const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");

/** A stack file of `n` copies of the stack's first model (names made unique), written into tmp. */
function generatedStack(n: number): string {
  const doc = YAML.parse(fs.readFileSync(path.join(ROOT, "stacks", `Pulumi.${values.stack}.yaml`), "utf8"));
  const first = doc.config["retrieval-stack:models"][0];
  doc.config["retrieval-stack:models"] = Array.from({ length: n }, (_, i) => ({
    ...first,
    name: `${first.name}-${i}`,
  }));
  const file = path.join(tmp, `Pulumi.bench${n}.yaml`);
  // No anchors: copies of one model would otherwise be written as aliases, which the reader caps (maxAliasCount).
  fs.writeFileSync(file, YAML.stringify(doc, { aliasDuplicateObjects: false }));
  return file;
}

if (values.scale) {
  const sizes = values.scale.split(",").map(Number);
  console.log(
    `load average before: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (${os.cpus().length} cores)`,
  );
  console.log("| models | result | wall s | CPU s | peak RSS MB | largest object KB |");
  console.log("| ---: | --- | ---: | ---: | ---: | ---: |");
  for (const n of sizes) {
    const out = path.join(tmp, `out${n}`);
    const timeFile = path.join(tmp, "time");
    const r = spawnSync(
      "/usr/bin/time",
      [
        "-f",
        "%e %U %S %M",
        "-o",
        timeFile,
        tsx,
        "scripts/plan.ts",
        "--config-file",
        generatedStack(n),
        "--out",
        out,
        "--quiet",
      ],
      {
        cwd: ROOT,
        // Sizes above the stack limit (MAX_MODELS) are measured too: the limit is what these figures justify.
        env: {
          ...process.env,
          NODE_OPTIONS: `--max-old-space-size=${values["heap-mb"]}`,
          RETRIEVAL_STACK_BENCH_MAX_MODELS: String(Math.max(...sizes)),
        },
        encoding: "utf8",
        timeout: Number(values["limit-s"]) * 1000,
        killSignal: "SIGKILL",
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const fields = fs.existsSync(timeFile) ? fs.readFileSync(timeFile, "utf8").trim().split("\n").pop()! : "";
    const [wall, user, sys, rssKb] = fields.split(/\s+/).map(Number);
    const result =
      r.signal === "SIGKILL"
        ? `stopped after ${values["limit-s"]} s`
        : r.status === 0
          ? "ok"
          : /heap out of memory|Allocation failed/.test(r.stderr)
            ? "out of memory"
            : `failed: ${r.stderr.trim().split("\n")[0]?.slice(0, 120)}`;
    console.log(
      `| ${n} | ${result} | ${wall?.toFixed(1) ?? "-"} | ${((user ?? 0) + (sys ?? 0)).toFixed(1)} | ${rssKb ? Math.round(rssKb / 1024) : "-"} | ${largestObjectKb(out)} |`,
    );
    fs.rmSync(timeFile, { force: true });
  }
  console.log(
    `load average after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(0);
}

/** The largest manifest file the plan wrote (one object per file), in KB; "-" when it wrote none. */
function largestObjectKb(out: string): string {
  const dir = path.join(out, "manifests");
  if (!fs.existsSync(dir)) return "-";
  let max = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else max = Math.max(max, fs.statSync(f).size);
    }
  };
  walk(dir);
  return (max / 1024).toFixed(0);
}

const target = values.models ? ["--config-file", generatedStack(Number(values.models))] : ["--stack", values.stack];
// Wall time, and CPU time (user + sys, from /usr/bin/time) which a busy shared machine disturbs less.
const times: Record<string, number[]> = { off: [], on: [] };
const cpu: Record<string, number[]> = { off: [], on: [] };
for (let i = 0; i < Number(values.runs); i++)
  for (const mode of ["off", "on"] as const) {
    const start = process.hrtime.bigint();
    const cpuFile = path.join(tmp, "cpu");
    const args = [
      "-f",
      "%U %S",
      "-o",
      cpuFile,
      tsx,
      "scripts/plan.ts",
      ...target,
      "--out",
      path.join(tmp, mode),
      "--quiet",
    ];
    const r = spawnSync("/usr/bin/time", args, {
      cwd: ROOT,
      env: { ...process.env, RETRIEVAL_STACK_PLAN_SOURCE_MAPS: mode === "on" ? "1" : "0" },
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`plan failed (${mode}):\n${r.stderr}`);
    times[mode]!.push(Number(process.hrtime.bigint() - start) / 1e9);
    const [user, sys] = fs.readFileSync(cpuFile, "utf8").trim().split(/\s+/).slice(-2).map(Number);
    cpu[mode]!.push(user! + sys!);
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const same =
  spawnSync("diff", ["-r", path.join(tmp, "off", "manifests"), path.join(tmp, "on", "manifests")]).status === 0;
const list = (xs: number[]) => xs.map((t) => t.toFixed(2)).join(", ");
for (const m of ["off", "on"])
  console.log(
    `source maps ${m}: wall median ${median(times[m]!).toFixed(2)} s (${list(times[m]!)}); CPU median ${median(cpu[m]!).toFixed(2)} s (${list(cpu[m]!)})`,
  );
console.log(
  `off/on: wall ${(median(times.off!) / median(times.on!)).toFixed(2)}x, CPU ${(median(cpu.off!) / median(cpu.on!)).toFixed(2)}x; manifests identical: ${same}`,
);
fs.rmSync(tmp, { recursive: true, force: true });
