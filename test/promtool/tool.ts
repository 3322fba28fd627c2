import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";

/**
 * A real validator from Debian (promtool from `prometheus`, amtool from `prometheus-alertmanager`). Missing:
 * the caller skips LOUDLY on a laptop and FAILS in CI (CI=true), where .ci/run installs the packages.
 */
export interface Tool {
  readonly name: string;
  readonly path: string | undefined;
  /** Why it is missing and how to install it. */
  readonly missing: string;
}

export function findTool(name: string, debianPackage: string): Tool {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  const path = r.status === 0 ? r.stdout.trim() : undefined;
  return {
    name,
    path,
    missing: `${name} is not installed (apt-get install -y ${debianPackage}; .ci/run does this in CI)`,
  };
}

export const inCI = process.env.CI === "true";

/** Call in a test when the tool is missing: fails in CI, warns loudly elsewhere. */
export function toolMissing(tool: Tool): void {
  if (inCI) throw new Error(`${tool.missing}: required in CI`);
  console.warn(`\n!!! SKIPPED: ${tool.missing}. These checks did NOT run. !!!\n`);
}

export interface RunResult {
  readonly status: number | null;
  readonly output: string;
}

export function run(tool: Tool, args: readonly string[], cwd?: string): RunResult {
  const r = spawnSync(tool.path!, args, { encoding: "utf8", cwd, timeout: 60_000 });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** A `promtool test rules` case (the `name` is ours, for the vitest title; promtool does not take it). */
export interface RuleTestCase {
  readonly name: string;
  readonly interval: string;
  readonly input_series: readonly { series: string; values: string }[];
  readonly alert_rule_test: readonly unknown[];
}

/** Writes one case as its own test file next to `rulesFile` (same directory) and runs `promtool test rules`. */
export function promtoolTestRules(tool: Tool, rulesFile: string, c: RuleTestCase, id: string | number): RunResult {
  const dir = path.dirname(rulesFile);
  const file = path.join(dir, `test-${id}.yaml`);
  const { name: _name, ...group } = c;
  fs.writeFileSync(
    file,
    YAML.stringify(
      { rule_files: [path.basename(rulesFile)], evaluation_interval: "1m", tests: [group] },
      { lineWidth: 0 },
    ),
  );
  return run(tool, ["test", "rules", path.basename(file)], dir);
}
