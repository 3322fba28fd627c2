import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ESLint } from "eslint";

// docs/architecture.md's layer table and eslint.config.mjs's LAYERS say the same thing, and the rule bites.
const ROOT = path.resolve(__dirname, "..");

interface Layer {
  readonly path: string;
  readonly may: readonly string[];
  readonly noPulumi?: boolean;
}

/** The table's rows: folder, job, may import (backticked names, "nothing of ours" or "everything"). */
function docRows(): { path: string; job: string; may: string[] | "everything" }[] {
  const md = fs.readFileSync(path.join(ROOT, "docs/architecture.md"), "utf8");
  const rows = md.split("\n").filter((l) => /^\| `[^`]+` \|/.test(l));
  return rows.map((l) => {
    const [p, job, may] = l
      .slice(1, -1)
      .split(" | ")
      .map((c) => c.trim());
    return {
      path: p!.replace(/`/g, "").replace(/\/$/, ""),
      job: job!,
      may: may === "everything" ? "everything" : [...may!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\/$/, "")),
    };
  });
}

describe("the layer table", () => {
  it("docs/architecture.md and eslint.config.mjs list the same layers with the same allowed imports", async () => {
    const { LAYERS } = (await import(path.join(ROOT, "eslint.config.mjs"))) as { LAYERS: Layer[] };
    const rows = docRows();
    const documented = rows.filter((r) => r.may !== "everything");
    expect(documented.map((r) => r.path).sort()).toEqual(LAYERS.map((l) => l.path).sort());
    for (const l of LAYERS) {
      const row = documented.find((r) => r.path === l.path)!;
      expect([...row.may].sort(), l.path).toEqual([...l.may].sort());
      expect(row.job.includes("no `@pulumi`"), `${l.path}: "no \`@pulumi\`" in the docs iff noPulumi`).toBe(
        !!l.noPulumi,
      );
    }
    // Rows that may import everything are exactly the folders the rule leaves alone.
    for (const r of rows.filter((x) => x.may === "everything"))
      expect(LAYERS.some((l) => l.path === r.path)).toBe(false);
  });

  it("eslint reports an import the table does not allow, and a @pulumi import in a program", async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const lint = async (file: string, code: string) =>
      (await eslint.lintText(code, { filePath: path.join(ROOT, file) }))[0]!.messages
        .filter((m) => m.ruleId === "local/layers")
        .map((m) => m.message);
    expect(await lint("components/serving/x.ts", 'import { a } from "../ingress/tls";\nexport { a };\n')).toEqual([
      expect.stringMatching(/^components\/serving may not import components\/ingress /),
    ]);
    expect(
      await lint("components/serving/engines/x.ts", 'import type { A } from "../workload";\nexport type { A };\n'),
    ).toEqual([expect.stringMatching(/^components\/serving\/engines may not import components\/serving /)]);
    expect(
      await lint("images/gateway/src/x.ts", 'import * as k8s from "@pulumi/kubernetes";\nexport { k8s };\n'),
    ).toEqual([expect.stringMatching(/no @pulumi import/)]);
    expect(
      await lint(
        "images/gateway/src/x.ts",
        'import { G } from "../../../components/gateway/gateway";\nexport { G };\n',
      ),
    ).toEqual([expect.stringMatching(/^images\/gateway may not import components\/gateway /)]);
    // Allowed: a program and its contract, a component and its own smaller layers.
    expect(
      await lint(
        "images/canary/src/x.ts",
        'import { a } from "../../../components/contracts/canary";\nexport { a };\n',
      ),
    ).toEqual([]);
    expect(await lint("components/serving/x.ts", 'import { a } from "./engines";\nexport { a };\n')).toEqual([]);
  });
});
