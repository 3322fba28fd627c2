// The plan's outputs.json is what a deployed stack exports: `npm run verify -- --stack-outputs out/<stack>/outputs.json`
// reads it as it is. Here every model's in-cluster URL is pointed at a fake engine on 127.0.0.1 (the dialect the
// plan says), and the verifier's own CLI, run as `npm run verify` runs it, passes every model.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startFakeServer, type FakeDialect, type FakeServer } from "./fixtures/engine-server";
import { ROOT, run } from "./run-cli";
import { sharedPlan } from "./shared-plans";

const servers: FakeServer[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-plan-outputs-"));
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Target {
  name: string;
  url: string;
  dialect: FakeDialect;
  servedModel: string;
  dims?: number;
}

describe("outputs.json with the verifier", () => {
  it("verify --stack-outputs reads the local stack's plan and checks every model (fake engines on 127.0.0.1)", async () => {
    const { out, result } = await sharedPlan("local");
    expect(result.code, result.stderr).toBe(0);
    const outputs = JSON.parse(fs.readFileSync(path.join(out, "outputs.json"), "utf8"));
    // The models' own targets; those through the gateway are proven against a gateway in verification-gateway.test.ts.
    outputs.verification.targets = (outputs.verification.targets as (Target & { kind?: string })[]).filter(
      (t) => t.kind !== "gateway",
    );
    const targets = outputs.verification.targets as Target[];
    expect(targets.length).toBeGreaterThan(0);
    for (const t of targets) {
      const server = await startFakeServer({ dialect: t.dialect, servedModel: t.servedModel, dims: t.dims });
      servers.push(server);
      t.url = server.url;
    }
    const file = path.join(dir, "outputs.json");
    fs.writeFileSync(file, JSON.stringify(outputs));
    const r = await run(
      "npm",
      ["run", "--silent", "verify", "--", "--stack-outputs", file, "--in-cluster", "--json", "--quiet"].concat([
        "--requests",
        "8",
        "--concurrency",
        "2",
        "--timeout",
        "30",
        "--request-timeout",
        "5",
      ]),
      { cwd: ROOT, timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const report = JSON.parse(r.stdout) as { targets: { name: string; pass: boolean }[] };
    expect(report.targets.map((t) => [t.name, t.pass])).toEqual(targets.map((t) => [t.name, true]));
    for (const s of servers) expect(s.log.length, s.url).toBeGreaterThan(0);
  });
});
