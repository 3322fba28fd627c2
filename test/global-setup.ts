// Vitest global setup: a directory for this run's shared stack renders (test/shared-plans.ts), and a teardown that
// fails the run when a process the suite started survives it (a server or CLI a test forgot to stop).
import * as fs from "node:fs";
import * as path from "node:path";
import type { TestProject } from "vitest/node";
import { RUN_MARKER, survivingProcesses } from "./processes";

const ROOT = path.resolve(__dirname, "..");
const PLANS = path.join(ROOT, "out", "test-plans");
/** Written when processes survived the run; scripts/test.sh counts it as a failed test. */
export const SURVIVORS_NOTE = path.join(ROOT, "out", "vitest-survivors.txt");

export default function setup(project: TestProject): () => void {
  // One directory per run (and Node version: CI runs the suite on two); earlier runs' renders are removed.
  const run = `${process.version}-${process.pid}-${Date.now()}`;
  fs.rmSync(PLANS, { recursive: true, force: true });
  fs.mkdirSync(path.join(PLANS, run), { recursive: true });
  project.provide("plansDir", path.join(PLANS, run));
  const startedAfter = Date.now();
  // Inherited by the workers and everything the tests start: only processes of this run count as survivors.
  process.env[RUN_MARKER] = run;

  return () => {
    const survivors = survivingProcesses(ROOT, startedAfter, run);
    if (survivors.length === 0) return;
    // Stop them (they are ours: started by this run, working in this checkout), then fail the run.
    for (const p of survivors)
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // already gone
      }
    const message = `${survivors.length} process(es) started by the test run survived it (now killed); stop every process a test starts, also on failure:\n${survivors.map((p) => `  pid ${p.pid} (cwd ${path.relative(ROOT, p.cwd) || "."}): ${p.cmdline}`).join("\n")}`;
    // Vitest only logs an error thrown here: set the exit code, and leave a note that scripts/test.sh counts as a
    // failure in its closing line.
    console.error(`\nFAIL (global teardown): ${message}`);
    process.exitCode = 1;
    fs.mkdirSync(path.join(ROOT, "out"), { recursive: true });
    fs.appendFileSync(SURVIVORS_NOTE, message + "\n");
  };
}
