import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, run } from "./run-cli";

/**
 * A team installs the packed package into its own Pulumi program. The consumer gets the tarball's files only
 * (what `npm pack` ships); its dependencies are linked from this checkout's node_modules so the test needs no
 * registry.
 */
describe("retrieval-stack as a library", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-consumer-"));
  const consumer = path.join(dir, "consumer");

  beforeAll(async () => {
    const packed = await run("npm", ["pack", "--pack-destination", dir, "--json"], { timeoutMs: 180_000 });
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = path.join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
    const modules = path.join(consumer, "node_modules");
    fs.mkdirSync(path.join(modules, "retrieval-stack"), { recursive: true });
    const untar = await run("tar", [
      "-xzf",
      tarball,
      "-C",
      path.join(modules, "retrieval-stack"),
      "--strip-components=1",
    ]);
    expect(untar.code, untar.stderr).toBe(0);
    for (const dep of fs.readdirSync(path.join(ROOT, "node_modules"))) {
      if (dep.startsWith(".") || dep === "retrieval-stack") continue;
      fs.symlinkSync(path.join(ROOT, "node_modules", dep), path.join(modules, dep));
    }
    fs.writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true }));
    fs.writeFileSync(
      path.join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "commonjs",
          target: "ES2022",
          esModuleInterop: true,
          skipLibCheck: true,
          types: ["node"],
          typeRoots: [path.join(ROOT, "node_modules", "@types")],
        },
      }),
    );
    fs.writeFileSync(
      path.join(consumer, "index.ts"),
      `import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { ModelService, parsePlatformConfig, type ModelConfig, MODEL_CATALOGUE } from "retrieval-stack";

async function main() {
  const created: string[] = [];
  await pulumi.runtime.setMocks({
    newResource: (a) => { created.push(a.type); return { id: a.name + "-id", state: a.inputs }; },
    call: (a) => a.inputs,
  }, "consumer", "dev", false);
  // The consumer's own config goes through the same validation as ours.
  const config = parsePlatformConfig({
    environment: "local",
    cluster: { mode: "existing", name: "theirs" },
    models: [{ name: "bge", model: "BAAI/bge-small-zh-v1.5", engine: "tei", task: "embed", replicas: { min: 1, max: 1 }, slo: { p99LatencyMs: 500 } }],
  }, { secretKeys: new Set() });
  const model: ModelConfig = config.models[0]!;
  const provider = new k8s.Provider("theirs", {});
  new ModelService("bge", { provider, environment: "local", namespace: "search", model, monitoring: false });
  await new Promise((r) => setTimeout(r, 500));
  console.log(JSON.stringify({ dims: MODEL_CATALOGUE["BAAI/bge-small-zh-v1.5"]!.dims, created }));
}
main().catch((e) => { console.error(e); process.exit(1); });
`,
    );
  }, 240_000);

  it("ships declarations and type-checks a consumer program under strict mode", async () => {
    expect(
      fs.existsSync(path.join(consumer, "node_modules", "retrieval-stack", "dist", "components", "index.d.ts")),
    ).toBe(true);
    const tsc = await run(path.join(ROOT, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", consumer], {
      cwd: consumer,
    });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.code).toBe(0);
  });

  it("runs a consumer program that composes a component from the package root", async () => {
    const r = await run(path.join(ROOT, "node_modules", ".bin", "tsx"), ["index.ts"], { cwd: consumer });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { dims: number; created: string[] };
    expect(out.dims).toBe(512);
    expect(out.created).toContain("retrieval-stack:serving:ModelService");
    // The component really renders the workload, not just itself.
    expect(out.created).toContain("kubernetes:apps/v1:Deployment");
    expect(out.created).toContain("kubernetes:core/v1:Service");
  });

  it("does not ship tests, stacks or the plan tool", async () => {
    const files = fs.readdirSync(path.join(consumer, "node_modules", "retrieval-stack"));
    expect(files).not.toContain("test");
    expect(files).not.toContain("stacks");
    expect(files).not.toContain("plan");
  });
});
