// `npm run plan` argument mistakes: one line naming the mistake and the likely intent, the usage, exit 2, no stack
// trace, and nothing heavy loaded (the answer comes before the Pulumi runtime). Run as a user runs it: through npm
// where npm's own parsing is the point, tsx scripts/plan.ts otherwise.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parsePlanArgs } from "../plan/args";
import { ROOT, plan, run } from "./run-cli";

const NO_NPM: NodeJS.ProcessEnv = {};

function expectUsageError(r: { code: number | null; stdout: string; stderr: string }, firstLine: string | RegExp) {
  expect(r.code, r.stderr).toBe(2);
  const [first, ...rest] = r.stderr.split("\n");
  if (typeof firstLine === "string") expect(first).toBe(firstLine);
  else expect(first).toMatch(firstLine);
  expect(rest.join("\n")).toContain("usage: npm run plan -- --stack <name>");
  expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
  expect(r.stderr).not.toMatch(/ERR_PARSE_ARGS/);
}

describe("npm run plan: argument mistakes", () => {
  it("a misspelt option suggests the right one", async () => {
    expectUsageError(await plan(["--stak", "dev"]), "plan: unknown option --stak; did you mean --stack?");
  });

  it("`npm run plan --stack dev` (npm ate the option) asks whether `--` was forgotten", async () => {
    const r = await run("npm", ["run", "--silent", "plan", "--stack", "dev"]);
    expectUsageError(r, "plan: npm took the options as its own; did you forget `--`? Run: npm run plan -- --stack dev");
  });

  it("--out without a value", async () => {
    expectUsageError(await plan(["--stack", "dev", "--out"]), "plan: --out needs a value, e.g. --out out/dev");
    expectUsageError(await plan(["--stack", "--out", "x"]), "plan: --stack needs a value, e.g. --stack dev");
  });

  it("--stack given a file path suggests --config-file", async () => {
    expectUsageError(
      await plan(["--stack", "stacks/Pulumi.dev.yaml"]),
      "plan: --stack takes a stack name, not a file; did you mean --stack dev or --config-file stacks/Pulumi.dev.yaml?",
    );
  });

  it("a misspelt stack name suggests the stack, and no arguments at all names what is missing", async () => {
    expectUsageError(await plan(["--stack", "prdo"]), /^plan: no stack "prdo" .*did you mean --stack prod\?/);
    expectUsageError(await plan([]), "plan: missing --stack <name> (or --config-file <path>)");
    expectUsageError(await plan(["dev"]), 'plan: unexpected argument "dev"; did you mean --stack dev?');
  });

  it("--help prints the usage, which says that --stack takes any stacks/Pulumi.<name>.yaml, and exits 0", async () => {
    const r = await plan(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--stack NAME\s+any stacks\/Pulumi\.<NAME>\.yaml \(here: dev, local, prod, staging\)/);
    expect(r.stdout).toContain("--against REF");
  });

  it("answers before loading the Pulumi runtime", () => {
    // The argument module imports only node: modules, so no mistake waits for @pulumi/pulumi (seconds) to load.
    const source = fs.readFileSync(path.join(ROOT, "plan", "args.ts"), "utf8");
    const imports = [...source.matchAll(/from "([^"]+)"/g)].map((m) => m[1]);
    expect(imports.every((i) => i!.startsWith("node:"))).toBe(true);
    const script = fs.readFileSync(path.join(ROOT, "scripts", "plan.ts"), "utf8");
    expect(script).not.toMatch(/^import .* from "\.\.\/plan\/run"/m); // loaded lazily, after the arguments
  });

  it("--config-file names the plan after the file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-plan-args-"));
    try {
      const a = path.join(dir, "Pulumi.team-a.yaml");
      const b = path.join(dir, "search.yaml");
      fs.writeFileSync(a, "config: {}\n");
      fs.writeFileSync(b, "config: {}\n");
      expect(parsePlanArgs(["--config-file", a], NO_NPM)).toMatchObject({ kind: "plan", args: { stack: "team-a" } });
      expect(parsePlanArgs(["--config-file", b], NO_NPM)).toMatchObject({ kind: "plan", args: { stack: "search" } });
      expect(parsePlanArgs(["--config-file", path.join(dir, "nope.yaml")], NO_NPM)).toEqual({
        kind: "error",
        message: `--config-file ${path.join(dir, "nope.yaml")}: no such file`,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
