// A program that fails under `npm run plan`: evaluated with source maps off for speed, the plan is run again with
// them on, so the error names the TypeScript file and line of the throw (not a position in transpiled code).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, run } from "./run-cli";

const PROGRAM = path.join(ROOT, "test", "fixtures", "failing-program.ts");

describe("npm run plan: a failing program", () => {
  it("names the TypeScript line of the error, one line, exit 1, no stack trace", async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rs-plan-error-")), "out");
    const line =
      fs
        .readFileSync(PROGRAM, "utf8")
        .split("\n")
        .findIndex((l) => l.includes("throw new Error")) + 1;
    const r = await run(
      path.join(ROOT, "node_modules", ".bin", "tsx"),
      ["scripts/plan.ts", "--stack", "local", "--out", out, "--quiet"],
      {
        env: { RETRIEVAL_STACK_PLAN_PROGRAM: PROGRAM, RETRIEVAL_STACK_PLAN_SOURCE_MAPS: "" },
      },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `program error: replicas 3 is more than this program allows (at test/fixtures/failing-program.ts:${line}:`,
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(fs.existsSync(out)).toBe(false);
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  });
});
