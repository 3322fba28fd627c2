import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { fakeEmbedding } from "./fixtures/fake-model";
import { startGateway, tempDir, writeStack, type GatewayProcess } from "./fixtures/gateway-process";
import { gatewayStack, KEY_A, KEY_B } from "./gateway-stack";
import { apt, findTool, needTool } from "./fixtures/tools";

/**
 * The playground page (images/gateway/playground) in a real headless Chromium (Debian's, driven by
 * playwright-core), served by the gateway started as `npm run gateway` does, in front of fake engines whose
 * reranker scores by the texts' content (test/fixtures/fake-model.ts) and a broken one (random scores) to compare
 * with. Screenshots of each tab go to out/playground/.
 */
const ROOT = path.resolve(__dirname, "..");
const SHOTS = path.join(ROOT, "out/playground");
const CHROMIUM = findTool("chromium", apt("chromium"));
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const WRONG_KEY = "wrong-key-0000000000000000";
const MAX_BODY = 20_000;

let gw: GatewayProcess | undefined;
let gwOff: GatewayProcess | undefined;
let context: BrowserContext | undefined;
let userDir: string | undefined;
const fakes: FakeServer[] = [];

const cpu = { replicas: { min: 1, max: 1 }, resources: { cpu: "1", memory: "2Gi" }, slo: { p99LatencyMs: 1000 } };

beforeAll(async () => {
  const [good, noisy, emb] = await Promise.all([
    startFakeServer({ dialect: "vllm", servedModel: "rr-vllm" }),
    startFakeServer({ dialect: "tei", servedModel: "rr-noisy", fault: "random-scores" }),
    startFakeServer({ dialect: "tei", servedModel: "emb-tei", dims: 512 }),
  ]);
  fakes.push(good, noisy, emb);
  const keys = {
    "team-a": { sha256: [sha(KEY_A)] },
    // One request, then the next is over the rate for 100 s: the page must say when to retry.
    slow: { sha256: [sha(KEY_B)], limits: { requestsPerSecond: 0.01, burst: 0 } },
  };
  const noisyModel = { name: "rr-noisy", model: "BAAI/bge-reranker-base", engine: "tei", task: "rerank", ...cpu };
  const upstreams = [
    `--upstream=rr-vllm=${good.url}`,
    `--upstream=rr-noisy=${noisy.url}`,
    `--upstream=emb-tei=${emb.url}`,
  ];
  const on = writeStack(tempDir(), gatewayStack({ keys, maxBodyBytes: MAX_BODY }, [noisyModel]));
  const off = writeStack(tempDir(), gatewayStack({ keys, playground: false }, [noisyModel]));
  [gw, gwOff] = await Promise.all([
    startGateway(["--stack", on, ...upstreams]),
    startGateway(["--stack", off, ...upstreams]),
  ]);
  if (!CHROMIUM.path) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  userDir = fs.mkdtempSync(path.join(os.tmpdir(), "playground-chromium-"));
  context = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM.path,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 800 },
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: gw.url });
}, 120_000);

afterAll(async () => {
  // Each step runs even when an earlier one fails: no browser or server outlives the suite.
  const steps = await Promise.allSettled([context?.close(), gw?.stop(), gwOff?.stop(), ...fakes.map((f) => f.close())]);
  if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  const failed = steps.filter((s) => s.status === "rejected");
  if (failed.length) throw new Error(`cleanup failed: ${failed.map((f) => String(f.reason)).join("; ")}`);
}, 60_000);

/** A fresh tab on /playground with `key` entered and the models loaded (or their error shown). */
async function openPage(key: string): Promise<Page> {
  const page = await context!.newPage();
  await page.goto(`${gw!.url}/playground`);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Load models" }).click();
  // Polled from the test (not waitForFunction, which evaluates a string: the page's CSP forbids eval).
  await expect.poll(() => page.locator("#models-status").textContent(), { timeout: 10_000 }).not.toMatch(/Loading/);
  return page;
}

async function ranking(page: Page, list: string) {
  await page.locator(`${list} li`).first().waitFor();
  return page.$$eval(`${list} li`, (lis) =>
    lis.map((li) => ({
      index: Number(li.getAttribute("data-index")),
      score: Number(li.getAttribute("data-score")),
      moved: li.classList.contains("moved"),
      text: li.querySelector(".text")!.textContent!,
      bar: li.querySelector(".bar")!.getBoundingClientRect().width,
    })),
  );
}

async function errorOf(page: Page, prefix: string): Promise<string> {
  const alert = page.locator(`#${prefix}-error`);
  await alert.waitFor({ state: "visible" });
  return (await alert.textContent()) ?? "";
}

/** What the gateway itself answers to a request: the page must show this message. */
async function gatewayMessage(body: unknown, key: string): Promise<string> {
  const res = await fetch(`${gw!.url}/v1/rerank`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
  return ((await res.json()) as { error: { message: string } }).error.message;
}

describe("serving the page", () => {
  it("GET /playground is the page (HTML, its module and stylesheet) when gateway.playground is on", async () => {
    const page = await fetch(`${gw!.url}/playground`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/<title>Retrieval playground<\/title>/);
    for (const [file, type] of [
      ["app.js", /^text\/javascript/],
      ["lib.js", /^text\/javascript/],
      ["playground.css", /^text\/css/],
    ] as const) {
      const r = await fetch(`${gw!.url}/playground/${file}`);
      expect(r.status, file).toBe(200);
      expect(r.headers.get("content-type")).toMatch(type);
    }
  });

  it("gateway.playground: false: /playground is a 404 in the gateway's error shape, the API still answers", async () => {
    const r = await fetch(`${gwOff!.url}/playground`);
    expect(r.status).toBe(404);
    expect(((await r.json()) as any).error.message).toMatch(/No route GET \/playground/);
    const models = await fetch(`${gwOff!.url}/v1/models`, { headers: { authorization: `Bearer ${KEY_A}` } });
    expect(models.status).toBe(200);
  });

  it("the page needs no CDN: every URL it references is on the gateway itself", () => {
    const dir = path.join(ROOT, "images/gateway/playground");
    for (const f of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, f), "utf8");
      expect(text, f).not.toMatch(/(src|href)=["']https?:/);
      expect(text, f).not.toMatch(/import[^;]*from\s*["']https?:/);
    }
  });
});

describe("in Chromium", () => {
  it("chromium is installed (required in CI; skipped with how to install it elsewhere)", (ctx) => {
    needTool(ctx, CHROMIUM);
  });

  it.skipIf(!CHROMIUM.path)(
    "rerank: the built-in example (Ctrl+Enter) puts the asyncio+aiohttp document first with the longest bar",
    async () => {
      const page = await openPage(KEY_A);
      expect(await page.locator("#models-status").textContent()).toMatch(/rerank, \d+ embedding/);
      await page.selectOption("#rerank-model", "rr-vllm");
      expect(await page.inputValue("#rerank-query")).toBe("如何实现Python中的异步爬虫");
      await page.locator("#rerank-query").press("Control+Enter");
      const r = await ranking(page, "#rerank-results");
      expect(r).toHaveLength(3);
      expect(r[0]!.text).toBe("利用asyncio和aiohttp库构建异步网络爬取程序。");
      expect(r[0]!.index).toBe(1); // the caller's own index: second document of the box
      for (const other of r.slice(1)) {
        expect(r[0]!.score).toBeGreaterThan(other.score);
        expect(r[0]!.bar).toBeGreaterThan(other.bar);
      }
      expect(await page.locator("#rerank-results li").first().textContent()).toContain("doc #1");
      expect(await page.locator("#rerank-meta").textContent()).toMatch(/^rr-vllm · \d+ ms · 42 tokens · 3 documents/);
      // The key lives in this tab's session storage, never in the URL; a reload keeps it.
      expect(page.url()).toBe(`${gw!.url}/playground`);
      expect(await page.evaluate('sessionStorage.getItem("retrieval-playground.api-key")')).toBe(KEY_A);
      await page.reload();
      expect(await page.inputValue("#api-key")).toBe(KEY_A);
      await page.locator("#rerank-model option").first().waitFor({ state: "attached" });
      await page.selectOption("#rerank-model", "rr-vllm");
      await page.getByRole("button", { name: "Rerank", exact: true }).click();
      await ranking(page, "#rerank-results");
      await page.screenshot({ path: path.join(SHOTS, "rerank.png") });
      await page.close();
    },
    60_000,
  );

  it.skipIf(!CHROMIUM.path)(
    "embeddings: a paraphrase is closer than an unrelated text; curl and OpenAI code of the exact request",
    async () => {
      const page = await openPage(KEY_A);
      await page.getByRole("tab", { name: "Embeddings" }).click();
      await page.selectOption("#embed-model", "emb-tei");
      const texts = ["如何实现Python中的异步爬虫", "怎样用Python实现异步爬虫程序", "今天天气很好，适合去公园散步"];
      await page.getByLabel(/^Texts/).fill(texts.join("\n"));
      await page.getByRole("button", { name: "Embed", exact: true }).click();
      await page.locator("#embed-heatmap td").first().waitFor();
      const sim = await page.$$eval("#embed-heatmap td", (tds) =>
        tds.map((td) => ({
          i: Number(td.getAttribute("data-i")),
          j: Number(td.getAttribute("data-j")),
          s: Number(td.getAttribute("data-similarity")),
        })),
      );
      expect(sim).toHaveLength(9);
      const at = (i: number, j: number) => sim.find((c) => c.i === i && c.j === j)!.s;
      expect(at(0, 0)).toBeCloseTo(1, 5);
      expect(at(0, 1)).toBeGreaterThan(at(0, 2) + 0.2);
      expect(await page.locator("#embed-meta").textContent()).toMatch(/^emb-tei · \d+ ms · .* · 512 dimensions/);
      const norms = await page.$$eval("#embed-norms tbody tr td:nth-child(3)", (tds) => tds.map((t) => t.textContent));
      expect(norms).toEqual(["1.0000", "1.0000", "1.0000"]);
      await page.screenshot({ path: path.join(SHOTS, "embeddings.png") });

      // "Copy as curl": the clipboard holds the exact request; run it as a user would, with the key from the env.
      await page.getByRole("button", { name: "Copy as curl" }).click();
      const curl = await page.evaluate<string>("navigator.clipboard.readText()");
      expect(curl).toBe(await page.locator("#embed-snippet").textContent());
      expect(curl).not.toContain(KEY_A);
      // Not spawnSync: the fake engine answers from this process's event loop.
      const run = await promisify(execFile)("bash", ["-c", curl], {
        env: { ...process.env, RETRIEVAL_API_KEY: KEY_A },
      });
      const answer = JSON.parse(run.stdout) as { model: string; data: { embedding: number[] }[] };
      expect(answer.model, run.stdout.slice(0, 400)).toBe("emb-tei");
      expect(answer.data.map((d) => d.embedding.length)).toEqual([512, 512, 512]);
      expect(answer.data[1]!.embedding[5]).toBeCloseTo(fakeEmbedding(texts[1]!, 512)[5]!, 6);

      await page.getByRole("button", { name: "Copy as OpenAI client code" }).click();
      const code = await page.evaluate<string>("navigator.clipboard.readText()");
      expect(code).toContain(`OpenAI(base_url="${gw!.url}/v1", api_key=os.environ["RETRIEVAL_API_KEY"])`);
      expect(code).toContain('model="emb-tei"');
      expect(code).toContain('encoding_format="float"');
      expect(code).toContain(JSON.stringify(texts[2]));
      await page.close();
    },
    60_000,
  );

  it.skipIf(!CHROMIUM.path)(
    "compare: two rerank models side by side, the ranks where their orders differ marked",
    async () => {
      const page = await openPage(KEY_A);
      await page.getByRole("tab", { name: "Compare" }).click();
      await page.selectOption("#compare-model-a", "rr-vllm");
      await page.selectOption("#compare-model-b", "rr-noisy");
      await page.locator("#compare-docs").press("Control+Enter");
      const a = await ranking(page, "#compare-results-a");
      const b = await ranking(page, "#compare-results-b");
      expect(a).toHaveLength(3);
      expect(b).toHaveLength(3);
      expect(a[0]!.text).toContain("asyncio");
      expect(b.map((x) => x.index)).not.toEqual(a.map((x) => x.index));
      // Exactly the ranks whose document differs are marked, in both lists.
      expect(a.map((x) => x.moved)).toEqual(a.map((x, i) => x.index !== b[i]!.index));
      expect(b.map((x) => x.moved)).toEqual(b.map((x, i) => x.index !== a[i]!.index));
      const moved = a.filter((x) => x.moved).length;
      expect(await page.locator("#compare-meta").textContent()).toMatch(
        new RegExp(`^Orders differ at ${moved} of 3 ranks · A \\d+ ms, B \\d+ ms`),
      );
      expect(await page.locator("#compare-title-b").textContent()).toBe("B: rr-noisy");
      await page.screenshot({ path: path.join(SHOTS, "compare.png") });
      await page.close();
    },
    60_000,
  );

  it.skipIf(!CHROMIUM.path)(
    "errors are the gateway's messages: wrong key (401), unknown model (404), too large (413), over the rate (429 with the retry time)",
    async () => {
      const seed = { query: "如何实现Python中的异步爬虫", documents: ["a"] };
      const unauthorized = await gatewayMessage({ model: "rr-vllm", ...seed }, WRONG_KEY);
      const fresh = await openPage(WRONG_KEY);
      expect(await fresh.locator("#models-status").textContent()).toBe(
        `Models could not be loaded: 401: ${unauthorized} Check the API key above.`,
      );
      await fresh.close();
      // Models loaded with a good key, then a mistyped one: the call itself answers 401.
      const wrong = await openPage(KEY_A);
      await wrong.getByLabel("API key").fill(WRONG_KEY);
      await wrong.selectOption("#rerank-model", "rr-vllm");
      await wrong.locator("#rerank-query").press("Control+Enter");
      expect(await errorOf(wrong, "rerank")).toBe(`401: ${unauthorized} Check the API key above.`);
      expect(await wrong.locator("#rerank-results li").count()).toBe(0);
      await wrong.close();

      const page = await openPage(KEY_A);
      // A model the list no longer has (renamed since the page loaded).
      await page.locator("#rerank-model").evaluate((s: any) => {
        s.add(new (globalThis as any).Option("gone-model", "gone-model"));
        s.value = "gone-model";
      });
      await page.locator("#rerank-query").press("Control+Enter");
      const unknown = await gatewayMessage({ model: "gone-model", ...seed }, KEY_A);
      expect(unknown).toMatch(/does not exist/);
      expect(await errorOf(page, "rerank")).toContain(`404: ${unknown}`);

      await page.selectOption("#rerank-model", "rr-vllm");
      await page.locator("#rerank-docs").fill(`${"长文档".repeat(2500)}\nshort`);
      await page.locator("#rerank-query").press("Control+Enter");
      await expect.poll(() => page.locator("#rerank-error").textContent(), { timeout: 10_000 }).toMatch(/^413/);
      expect(await errorOf(page, "rerank")).toMatch(new RegExp(`^413: .*larger than ${MAX_BODY} bytes`));
      await page.close();

      const slow = await openPage(KEY_B);
      await slow.selectOption("#rerank-model", "rr-vllm");
      await slow.locator("#rerank-query").press("Control+Enter");
      await ranking(slow, "#rerank-results");
      await slow.locator("#rerank-query").press("Control+Enter");
      const limited = await errorOf(slow, "rerank");
      expect(limited).toMatch(/^429: Over the request rate of key slow\. Retry after (\d+) s\.$/);
      expect(Number(/Retry after (\d+)/.exec(limited)![1])).toBeGreaterThan(90);
      // The page stays usable: the previous ranking and the controls are still there under the message.
      expect(await slow.locator("#rerank-results li").count()).toBe(3);
      expect(await slow.locator("#panel-rerank .outputs").getAttribute("class")).toContain("stale");
      await slow.screenshot({ path: path.join(SHOTS, "error-429.png") });
      await slow.close();
    },
    60_000,
  );
});
