// Benchmark of `npm run plan` with the program's source maps off (the default) and on (what a failing program's
// re-run uses): wall time of N alternating runs each, on the given stack or a generated one with --models N
// (copies of the local stack's first model). Checks that both write byte-identical manifests.
// Usage: npx tsx scripts/bench-plan.ts [--stack local] [--models 100] [--runs 5]
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
  },
});
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-plan-"));
let target = ["--stack", values.stack];
if (values.models) {
  const doc = YAML.parse(fs.readFileSync(path.join(ROOT, "stacks", `Pulumi.${values.stack}.yaml`), "utf8"));
  const first = doc.config["retrieval-stack:models"][0];
  doc.config["retrieval-stack:models"] = Array.from({ length: Number(values.models) }, (_, i) => ({
    ...first,
    name: `${first.name}-${i}`,
  }));
  const file = path.join(tmp, `Pulumi.bench${values.models}.yaml`);
  fs.writeFileSync(file, YAML.stringify(doc));
  target = ["--config-file", file];
}
const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
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
