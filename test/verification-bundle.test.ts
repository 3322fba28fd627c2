import * as fs from "node:fs";
import { isBuiltin } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { build, stop as stopEsbuild, type Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_FILE, NOTICES_FILE, bundleVerifier, verifierBuildOptions, type ImageBundle } from "../images/bundle";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { ROOT, run } from "./run-cli";

// ---------------------------------------------------------------------------------------------------------
// The artefact the verifier image ships: images/verifier/src/job.ts bundled by esbuild into one file, built
// here with the exact options of `npm run build:verifier`, then run as a process the way the image's ENTRYPOINT
// runs it, from a directory with no node_modules, against local engine servers.
// ---------------------------------------------------------------------------------------------------------

const DOCKERFILE = fs.readFileSync(path.join(ROOT, "images/verifier/Dockerfile"), "utf8");
/** The bundle may not grow past this: @pulumi/pulumi alone bundles to ~16 MB; openai + undici (its Agent) + zod + our code is ~1.7 MB. */
const BUNDLE_BUDGET_BYTES = 3 * 1024 * 1024;

/**
 * Builtins of newer Node versions that a bundled package probes inside try/catch: undici's
 * lib/util/runtime-features.js requires node:sqlite (Node >= 22.5) and treats ERR_UNKNOWN_BUILTIN_MODULE as
 * "feature off", so Node 20 runs the bundle without it.
 */
const OPTIONAL_BUILTINS = ["node:sqlite"];

let work: string;
let bundle: ImageBundle;
let embed: FakeServer;
let rerank: FakeServer;
let faulty: FakeServer;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "verifier-bundle-"));
  [bundle, embed, rerank, faulty] = await Promise.all([
    bundleVerifier(path.join(work, "dist")),
    startFakeServer({ dialect: "tei", dims: 512 }),
    startFakeServer({ dialect: "vllm", servedModel: "qwen3-reranker" }),
    startFakeServer({ dialect: "tei", dims: 512, fault: "nan" }),
  ]);
});
afterAll(async () => {
  // esbuild's build service outlives the build until stopped.
  await stopEsbuild();
  await Promise.all([embed?.close(), rerank?.close(), faulty?.close()]);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** Inputs of a build that come from an @pulumi/* package. */
function pulumiInputs(metafile: Metafile): string[] {
  return Object.keys(metafile.inputs).filter((input) => /(^|\/)node_modules\/@pulumi\//.test(input));
}

describe("the verifier bundle", () => {
  it("holds no @pulumi code and requires nothing but Node builtins at run time", () => {
    const kib = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
    const map = fs.statSync(`${bundle.file}.map`).size;
    console.log(
      `verifier bundle: ${kib(bundle.bytes)} (+ map ${kib(map)}), ${Object.keys(bundle.metafile.inputs).length} inputs; packages inlined: ${bundle.packages.map((p) => `${p.name}@${p.version} (${p.license})`).join(", ")}`,
    );

    expect(pulumiInputs(bundle.metafile)).toEqual([]);
    expect(bundle.packages.filter((p) => p.name.startsWith("@pulumi/"))).toEqual([]);
    expect(fs.readFileSync(bundle.file, "utf8")).not.toMatch(/@pulumi\//);
    // What job.js itself require()s: builtins only, so the image needs no node_modules.
    const [output] = Object.values(bundle.metafile.outputs).filter((o) => o.entryPoint);
    expect(output!.imports.map((i) => i.path).filter((p) => !isBuiltin(p) && !OPTIONAL_BUILTINS.includes(p))).toEqual(
      [],
    );
    // The libraries the Job uses are inside, with their licenses next to it.
    expect(bundle.packages.map((p) => p.name)).toEqual(expect.arrayContaining(["openai", "undici", "zod"]));
    const notices = fs.readFileSync(path.join(path.dirname(bundle.file), NOTICES_FILE), "utf8");
    for (const p of bundle.packages) expect(notices).toContain(`${p.name}@${p.version} (${p.license})`);
    expect(bundle.bytes).toBeLessThan(BUNDLE_BUDGET_BYTES);
  });

  it("the @pulumi check catches a module that reaches @pulumi (validation/load.ts imports @pulumi/pulumi)", async () => {
    const { entryPoints: _entry, ...options } = verifierBuildOptions(path.join(work, "control"));
    const control = await build({
      ...options,
      write: false,
      logLevel: "silent",
      stdin: { contents: 'export * from "./components/validation/load";', resolveDir: ROOT, loader: "ts" },
    });
    expect(pulumiInputs(control.metafile).length).toBeGreaterThan(0);
  });

  it("its source map points at the TypeScript sources (stack traces of a crashed Job name job.ts lines)", () => {
    const map = JSON.parse(fs.readFileSync(`${bundle.file}.map`, "utf8")) as {
      sources: string[];
      sourcesContent?: unknown;
    };
    const sources = map.sources.map((s) => path.resolve(path.dirname(bundle.file), s));
    expect(sources).toContain(path.join(ROOT, "images/verifier/src/job.ts"));
    expect(map.sourcesContent).toBeUndefined();
  });
});

describe("the bundle as the image runs it", () => {
  const options = {
    requests: 6,
    concurrency: 2,
    timeoutSeconds: 30,
    requestTimeoutSeconds: 3,
    maxRetries: 1,
    quality: { enabled: true, minMrrAt10: 0.75 },
  };
  const embedTarget = (url: string) => ({
    name: "bge-small-zh",
    url,
    dialect: "tei",
    task: "embed",
    servedModel: "bge-small-zh",
    modelId: "BAAI/bge-small-zh-v1.5",
    dims: 512,
    normalized: true,
    sloP99Ms: 2000,
  });
  const rerankTarget = (url: string) => ({
    name: "qwen3-reranker",
    url,
    dialect: "vllm",
    task: "rerank",
    servedModel: "qwen3-reranker",
    modelId: "Qwen/Qwen3-Reranker-0.6B",
    normalized: false,
    sloP99Ms: 2000,
  });

  /** The image's /app: only the files the Dockerfile copies, in a directory with no node_modules above it. */
  function imageApp(): string {
    const copy = /^COPY --from=build\b.*$/m.exec(DOCKERFILE.slice(DOCKERFILE.lastIndexOf("\nFROM ")))?.[0];
    const shipped = copy!
      .split(/\s+/)
      .filter((w) => w.startsWith("/src/"))
      .map((w) => path.basename(w));
    expect(shipped).toEqual(expect.arrayContaining([BUNDLE_FILE, `${BUNDLE_FILE}.map`]));
    const app = fs.mkdtempSync(path.join(work, "app-"));
    for (const file of shipped) fs.copyFileSync(path.join(path.dirname(bundle.file), file), path.join(app, file));
    return app;
  }

  /** The Dockerfile's ENTRYPOINT, with /app/ mapped to the copy and `node` to this Node. */
  async function runEntrypoint(name: string, config: unknown) {
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(DOCKERFILE)![1]!) as string[];
    expect(entrypoint[0]).toBe("node");
    const app = imageApp();
    const configFile = path.join(work, `${name}.json`);
    const terminationLog = path.join(work, `${name}.termination`);
    fs.writeFileSync(configFile, typeof config === "string" ? config : JSON.stringify(config));
    const args = entrypoint.slice(1).map((a) => a.replace(/^\/app\//, `${app}/`));
    const result = await run(process.execPath, args, {
      cwd: app,
      timeoutMs: 60_000,
      env: {
        VERIFY_CONFIG_FILE: configFile,
        VERIFY_TERMINATION_LOG: terminationLog,
        VERIFY_API_KEY: "",
        NODE_PATH: "",
        NODE_OPTIONS: "",
      },
    });
    const termination = fs.existsSync(terminationLog) ? fs.readFileSync(terminationLog, "utf8") : undefined;
    return { ...result, termination };
  }

  it("exits 0 against correct engines (embed and rerank) with the table, the REPORT_JSON line and the termination message", async () => {
    const r = await runEntrypoint("ok", { options, targets: [embedTarget(embed.url), rerankTarget(rerank.url)] });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[bge-small-zh\] verifying\.\.\.$/m);
    expect(r.stdout).toMatch(/^rerank\.best-first .*\| PASS$/m);
    expect(r.stdout).toMatch(/^quality\.mrr@10 .*\| PASS$/m);
    expect(r.stdout).toMatch(/verification passed: 2 model\(s\)/);
    const report = JSON.parse(
      r.stdout
        .split("\n")
        .find((l) => l.startsWith("REPORT_JSON "))!
        .slice("REPORT_JSON ".length),
    );
    expect(report).toMatchObject({
      pass: true,
      targets: [
        { name: "bge-small-zh", pass: true },
        { name: "qwen3-reranker", pass: true },
      ],
    });
    expect(r.termination).toBe("all checks passed");
  });

  it("exits 1 against an engine that returns NaN, naming the check, expected and got in the log and the termination message", async () => {
    const r = await runEntrypoint("nan", { options, targets: [embedTarget(faulty.url), rerankTarget(rerank.url)] });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /\[bge-small-zh\] embed\.finite: FAIL - expected only finite numbers; got 2 non-finite value\(s\), first NaN at vector 0, position 17/,
    );
    expect(r.stdout).toMatch(/verification FAILED: bge-small-zh\/embed\.finite/);
    expect(
      JSON.parse(
        r.stdout
          .split("\n")
          .find((l) => l.startsWith("REPORT_JSON "))!
          .slice(12),
      ),
    ).toMatchObject({ pass: false });
    expect(r.termination).toMatch(
      /^bge-small-zh embed\.finite: expected only finite numbers; got 2 non-finite value\(s\)/,
    );
    expect(r.termination).not.toMatch(/qwen3-reranker/);
  });

  it("exits 2 when the mounted config is not what it expects", async () => {
    const r = await runEntrypoint("broken", { targets: [] });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/verification config .*broken\.json unreadable: options: /);
    expect(r.termination).toMatch(/unreadable/);
  });
});
