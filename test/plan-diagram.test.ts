// plan.md's Mermaid diagram parses with Mermaid itself (the `mermaid` package's parse, in a jsdom window: it needs a
// DOM for its sanitiser), for every stack; and a broken diagram does not (the check can fail).
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { STACKS } from "./config-helpers";
import { sharedPlan } from "./shared-plans";

type Mermaid = { parse(text: string): Promise<unknown> };
// jsdom ships no types of its own; this is all the test uses of it.
const { JSDOM } = require("jsdom") as { JSDOM: new (html: string) => { window: { document: unknown } } };
let mermaid: Mermaid;

beforeAll(async () => {
  const dom = new JSDOM("<!doctype html><html><body></body></html>");
  Object.assign(globalThis, { window: dom.window, document: dom.window.document });
  mermaid = ((await import("mermaid")) as unknown as { default: Mermaid }).default;
});

const diagramOf = (md: string) => /```mermaid\n([\s\S]*?)\n```/.exec(md)?.[1];

describe("plan.md Mermaid diagram", () => {
  it("Mermaid refuses a broken flowchart (the parser is real)", async () => {
    await expect(mermaid.parse("flowchart LR\n  a --> ")).rejects.toThrow(/Parse error/);
  });

  it.each(STACKS)(
    "%s: parses as a flowchart and shows entry point, routes, models and observability",
    async (stack) => {
      const { out, result } = await sharedPlan(stack);
      expect(result.code, result.stderr).toBe(0);
      const md = fs.readFileSync(path.join(out, "plan.md"), "utf8");
      const diagram = diagramOf(md);
      expect(diagram, "no ```mermaid block in plan.md").toBeDefined();
      await expect(mermaid.parse(diagram!)).resolves.toMatchObject({ diagramType: "flowchart-v2" });
      expect(diagram).toMatch(/client\(\("client"\)\) *\n.*\n\s*nginx\["NGINX ingress<br\/>https?:\/\//);
      const models = [...md.matchAll(/^\| `([\w-]+)` \| [^|]+ \| (\w+) \| (embed|rerank) \|/gm)].map((m) => m[1]);
      expect(models.length).toBeGreaterThan(0);
      for (const m of models) {
        expect(diagram).toMatch(
          new RegExp(`m_${m!.replace(/-/g, "_")}\\["${m}<br/>\\w+ · (\\d+ x [\\w-]+|CPU)<br/>replicas \\d+-\\d+"\\]`),
        );
        expect(diagram).toMatch(new RegExp(`nginx -- "/models/${m}/v1/\\w+" --> m_${m!.replace(/-/g, "_")}`));
      }
      expect(diagram).toContain('prom["Prometheus');
    },
  );
});
