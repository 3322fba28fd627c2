// One offline render per stack per test run, shared by every test file that reads a stack's plan (plan.test.ts,
// alerts-stacks.test.ts, policy-stacks.test.ts, ...). The first file to ask renders it, as `npm run plan` does (a
// separate process); the others wait for it. Renders live in out/test-plans/<run>/ (test/global-setup.ts); tests
// only read them.
import * as fs from "node:fs";
import * as path from "node:path";
import { inject } from "vitest";
import { plan, type ProcessResult } from "./run-cli";

declare module "vitest" {
  export interface ProvidedContext {
    /** Directory of this run's shared stack renders (test/global-setup.ts). */
    plansDir: string;
  }
}

export interface SharedPlan {
  /** The plan's out directory (manifests/, resources.json, outputs.json, plan.md); absent when the plan failed. */
  readonly out: string;
  /** `npm run plan -- --stack <stack> --out <out>`: exit code, stdout (plan.md), stderr. */
  readonly result: ProcessResult;
}

const WAIT_MS = 240_000;

export async function sharedPlan(stack: string): Promise<SharedPlan> {
  const dir = path.join(inject("plansDir"), stack);
  const out = path.join(dir, "plan");
  const done = path.join(dir, "result.json");
  const read = (): SharedPlan => ({ out, result: JSON.parse(fs.readFileSync(done, "utf8")) as ProcessResult });
  if (fs.existsSync(done)) return read();
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  try {
    fs.mkdirSync(dir); // atomic: the one process that creates it renders
  } catch {
    const start = Date.now();
    while (!fs.existsSync(done)) {
      if (Date.now() - start > WAIT_MS) throw new Error(`shared plan of ${stack} not ready after ${WAIT_MS} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return read();
  }
  const result = await plan(["--stack", stack, "--out", out]);
  fs.writeFileSync(`${done}.tmp`, JSON.stringify(result));
  fs.renameSync(`${done}.tmp`, done);
  return read();
}
