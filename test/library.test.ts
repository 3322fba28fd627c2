import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, run } from "./run-cli";

/** The first ```ts block of docs/library.md: the library example, run here exactly as written. */
function libraryExample(): string {
  const md = fs.readFileSync(path.join(ROOT, "docs", "library.md"), "utf8");
  const block = /```ts\n([\s\S]*?)```/.exec(md);
  if (!block) throw new Error("docs/library.md has no ```ts block");
  return block[1]!;
}

/** Packages the docs say a serving-only program needs (peer dependencies + what the package itself depends on). */
const LINKED = ["@pulumi/pulumi", "@pulumi/kubernetes", "zod", "@types"];

/**
 * A team installs the packed package into its own Pulumi program. The consumer gets the tarball's files only (what
 * `npm pack` ships) and, linked from this checkout, only the packages a serving-only program needs: not @pulumi/aws,
 * awsx, eks or docker, so the example cannot load them.
 */
describe("retrieval-stack/serving as a library: the docs/library.md example", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-consumer-"));
  const consumer = path.join(dir, "consumer");
  const modules = path.join(consumer, "node_modules");

  beforeAll(async () => {
    const packed = await run("npm", ["pack", "--pack-destination", dir, "--json"], { timeoutMs: 180_000 });
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = path.join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
    fs.mkdirSync(path.join(modules, "retrieval-stack"), { recursive: true });
    const untar = await run("tar", [
      "-xzf",
      tarball,
      "-C",
      path.join(modules, "retrieval-stack"),
      "--strip-components=1",
    ]);
    expect(untar.code, untar.stderr).toBe(0);
    for (const dep of LINKED) {
      fs.mkdirSync(path.dirname(path.join(modules, dep)), { recursive: true });
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
        },
      }),
    );
    fs.writeFileSync(path.join(consumer, "index.ts"), libraryExample());
    // The Pulumi engine's part, offline: mocks record every resource, then the example runs as `pulumi up` would.
    fs.writeFileSync(
      path.join(consumer, "run.ts"),
      `import * as pulumi from "@pulumi/pulumi";
const created: { type: string; name: string; inputs: any }[] = [];
pulumi.runtime.setMocks(
  {
    newResource: (a) => {
      created.push({ type: a.type, name: a.name, inputs: a.inputs });
      return { id: a.name + "-id", state: a.inputs };
    },
    call: (a) => a.inputs,
  },
  "consumer",
  "prod",
  false,
);
const program = require("./index");
const settings = require("@pulumi/pulumi/runtime/settings");
pulumi.output(program.url).apply(async (url: string) => {
  await settings.waitForRPCs();
  console.log(JSON.stringify({ url, created }));
});
`,
    );
  }, 240_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("the example type-checks under strict mode against the shipped declarations", async () => {
    const tsc = await run(path.join(ROOT, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", consumer], {
      cwd: consumer,
    });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.code).toBe(0);
  });

  it("runs without @pulumi/aws, awsx, eks or docker installed, and deploys the GPU model as written", async () => {
    for (const absent of ["@pulumi/aws", "@pulumi/awsx", "@pulumi/eks", "@pulumi/docker"])
      expect(fs.existsSync(path.join(modules, absent))).toBe(false);
    const r = await run(path.join(ROOT, "node_modules", ".bin", "tsx"), ["run.ts"], { cwd: consumer });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as {
      url: string;
      created: { type: string; name: string; inputs: any }[];
    };
    expect(out.url).toBe("http://bge-large-zh.search.svc.cluster.local");
    const of = (type: string) => out.created.filter((c) => c.type === type).map((c) => c.inputs);
    expect(out.created.map((c) => c.type)).toContain("retrieval-stack:serving:ModelService");
    const [deployment] = of("kubernetes:apps/v1:Deployment");
    expect(deployment.metadata.namespace).toBe("search");
    const engine = deployment.spec.template.spec.containers[0];
    expect(engine.image).toMatch(/^vllm\/vllm-openai:/);
    expect(engine.args).toContain("BAAI/bge-large-zh-v1.5");
    expect(engine.resources.limits["nvidia.com/gpu"]).toBe("1");
    // g6.xlarge: L4 nodes; the pod lands only on the named group and GPU class.
    const terms = deployment.spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    expect(terms.nodeSelectorTerms[0].matchExpressions.map((e: any) => e.values[0])).toEqual(["gpu-l4", "l4"]);
    // The peers the example passes, not the stack's defaults.
    const [np] = of("kubernetes:networking.k8s.io/v1:NetworkPolicy");
    expect(JSON.stringify(np.spec.ingress)).toContain("ingress-nginx");
    expect(JSON.stringify(np.spec.ingress)).toContain("observability");
    expect(of("kubernetes:monitoring.coreos.com/v1:ServiceMonitor")).toHaveLength(1);
    const [scaled] = of("kubernetes:keda.sh/v1alpha1:ScaledObject");
    expect(scaled.spec.triggers[0].metadata.serverAddress).toBe("http://prometheus-operated.observability.svc:9090");
    expect(scaled.spec.triggers[0].metadata.query).toContain('namespace="search"');
    expect(of("kubernetes:policy/v1:PodDisruptionBudget")).toHaveLength(1);
  });

  it("the package root still needs the cloud providers (Cluster, Verification): documented, not hidden", async () => {
    const r = await run(process.execPath, ["-e", 'require("retrieval-stack")'], { cwd: consumer });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("Cannot find module '@pulumi/");
  });

  it("does not ship tests, stacks or the plan tool", () => {
    const files = fs.readdirSync(path.join(modules, "retrieval-stack"));
    expect(files).not.toContain("test");
    expect(files).not.toContain("stacks");
    expect(files).not.toContain("plan");
  });
});
