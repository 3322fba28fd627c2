import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { apt, needTool, probedTool, type Tool } from "./fixtures/tools";
import { describe, expect, it } from "vitest";
import { ENGINE_ADAPTERS, adapterFor } from "../components/serving/engines";
import { QWEN3_RERANKER_HF_OVERRIDES } from "../components/serving/engines/vllm";
import { SGLANG_E2E_LATENCY_BUCKETS } from "../components/serving/engines/sglang";
import { QWEN3_RERANKER_TEMPLATE } from "../components/serving/engines/qwen3-reranker-template";
import { LAUNCH_PAYLOAD_ENV, launcherScript } from "../components/serving/engines/xinference";
import { modelSelector } from "../components/serving/metric-labels";
import { SHIPPED_MODELS, contextOf, type ModelInput } from "./fixtures/serving";

const SEL = modelSelector("m", "retrieval");

describe("metrics declarations", () => {
  it("pins the engines' real metric names in the queue and in-flight queries", () => {
    expect(adapterFor("vllm").metrics.queueDepth!(SEL)).toBe(
      'sum(vllm:num_requests_waiting{namespace="retrieval",model="m"})',
    );
    expect(adapterFor("vllm").metrics.inFlight(SEL)).toBe(
      'sum(vllm:num_requests_running{namespace="retrieval",model="m"})',
    );
    expect(adapterFor("sglang").metrics.queueDepth!(SEL)).toBe(
      'sum(sglang:num_queue_reqs{namespace="retrieval",model="m"})',
    );
    expect(adapterFor("sglang").metrics.inFlight(SEL)).toBe(
      'sum(sglang:num_running_reqs{namespace="retrieval",model="m"})',
    );
    expect(adapterFor("tei").metrics.queueDepth!(SEL)).toBe('sum(te_queue_size{namespace="retrieval",model="m"})');
    // TEI has no in-flight gauge: Little's law over the inference-time histogram.
    expect(adapterFor("tei").metrics.inFlight(SEL)).toBe(
      'sum(rate(te_request_inference_duration_sum{namespace="retrieval",model="m"}[1m]))',
    );
    expect(adapterFor("xinference").metrics.inFlight(SEL)).toBe(
      'sum(xinference:model_serve_count{namespace="retrieval",model="m"})',
    );
  });

  it("declares error ratios from the engines' own failure counters, and none where there is none", () => {
    expect(adapterFor("tei").metrics.errorRatio!(SEL, "5m")).toBe(
      'sum(rate(te_request_failure{namespace="retrieval",model="m"}[5m])) / sum(rate(te_request_count{namespace="retrieval",model="m"}[5m]))',
    );
    expect(adapterFor("xinference").metrics.errorRatio!(SEL, "5m")).toContain("xinference:model_request_errors_total");
    expect(adapterFor("vllm").metrics.errorRatio!(SEL, "5m")).toContain('status="5xx"');
    expect(adapterFor("sglang").metrics.errorRatio).toBeUndefined();
    expect(adapterFor("vllm").metrics.latencyQuantile!(0.5, SEL, "5m")).toContain("histogram_quantile(0.5, ");
  });

  it("declares no queue query for Xinference, which exports no queue metric", () => {
    expect(adapterFor("xinference").metrics.queueDepth).toBeUndefined();
  });

  it("takes p99 latency from each engine's own end-to-end histogram", () => {
    expect(adapterFor("vllm").metrics.latencyP99(SEL, "5m")).toBe(
      'histogram_quantile(0.99, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket{namespace="retrieval",model="m"}[5m])))',
    );
    expect(adapterFor("sglang").metrics.latencyP99(SEL, "5m")).toContain("sglang:e2e_request_latency_seconds_bucket");
    expect(adapterFor("tei").metrics.latencyP99(SEL, "5m")).toContain("te_request_duration_bucket");
    expect(adapterFor("xinference").metrics.latencyP99(SEL, "5m")).toContain(
      "xinference:model_request_duration_seconds_bucket",
    );
  });

  it("KServe falls back from vLLM's series to the model server's predict histogram", () => {
    const m = adapterFor("kserve").metrics;
    expect(m.inFlight(SEL)).toBe(
      '(sum(vllm:num_requests_running{namespace="retrieval",model="m"}) or sum(rate(request_predict_seconds_sum{namespace="retrieval",model="m"}[1m])))',
    );
    expect(m.latencyP99(SEL, "5m")).toContain("request_predict_seconds_bucket");
  });

  it.each(Object.values(ENGINE_ADAPTERS).map((a) => [a.name, a] as const))(
    "%s: every metric a query reads is listed in metricNames",
    (_name, a) => {
      const m = a.metrics;
      const queries = [
        m.queueDepth?.(SEL),
        m.inFlight(SEL),
        m.latencyP99(SEL, "5m"),
        m.requestRate(SEL, "5m"),
        m.errorRatio?.(SEL, "5m"),
        m.latencyQuantile?.(0.5, SEL, "5m"),
      ].filter((q): q is string => !!q);
      const used = new Set(queries.flatMap((q) => [...q.matchAll(/([a-z_:][a-z0-9_:]*)\{/gi)].map((x) => x[1]!)));
      for (const name of used) expect(a.metrics.metricNames, `${a.name}: ${name}`).toContain(name);
    },
  );

  it("SGLang's metrics need --enable-metrics, and the adapter always passes it", () => {
    expect(adapterFor("sglang").metrics.requiredFlags).toEqual(["--enable-metrics"]);
    for (const seed of [SHIPPED_MODELS.bgeLargeZh, { ...SHIPPED_MODELS.qwen3Reranker, engine: "sglang" } as ModelInput])
      expect(adapterFor("sglang").workload(contextOf(seed)).args).toContain("--enable-metrics");
  });

  it("metrics are served where the workload exposes them", () => {
    expect(adapterFor("tei").metrics.port).toBe(9000);
    expect(adapterFor("tei").workload(contextOf(SHIPPED_MODELS.bgeSmallZhCpu, "local")).args.join(" ")).toContain(
      "--prometheus-port 9000",
    );
    expect(adapterFor("xinference").workload(contextOf(SHIPPED_MODELS.xinferenceReranker)).args.join(" ")).toContain(
      `--metrics-exporter-port ${adapterFor("xinference").metrics.port}`,
    );
  });
});

describe("vLLM adapter", () => {
  it("serves Qwen3-Reranker-4B as a pooling model with the hf_overrides and the chat template from a file", () => {
    const w = adapterFor("vllm").workload(contextOf(SHIPPED_MODELS.qwen3Reranker));
    expect(w.image).toBe("vllm/vllm-openai:v0.27.1");
    expect(w.command).toEqual(["vllm", "serve"]);
    expect(w.args).toEqual([
      "Qwen/Qwen3-Reranker-4B",
      "--runner",
      "pooling",
      "--served-model-name",
      "qwen3-reranker",
      "--host",
      "0.0.0.0",
      "--port",
      "8000",
      "--max-model-len",
      "32768",
      "--gpu-memory-utilization",
      "0.9",
      "--dtype",
      "auto",
      "--tensor-parallel-size",
      "1",
      "--hf-overrides",
      JSON.stringify(QWEN3_RERANKER_HF_OVERRIDES),
      "--chat-template",
      "/etc/retrieval-stack/qwen3_reranker.jinja",
    ]);
    expect(JSON.parse(w.args[w.args.indexOf("--hf-overrides") + 1]!)).toEqual({
      architectures: ["Qwen3ForSequenceClassification"],
      classifier_from_token: ["no", "yes"],
      is_original_qwen3_reranker: true,
    });
    expect(w.files).toEqual({ "qwen3_reranker.jinja": QWEN3_RERANKER_TEMPLATE });
    expect(w.sharedMemory).toBe(true);
  });

  it("serves an embedder without overrides or template", () => {
    const w = adapterFor("vllm").workload(contextOf({ ...SHIPPED_MODELS.bgeLargeZh, engine: "vllm" } as ModelInput));
    expect(w.args).not.toContain("--hf-overrides");
    expect(w.args).not.toContain("--chat-template");
    expect(w.files).toBeUndefined();
  });
});

describe("SGLang adapter", () => {
  it("runs BGE as an embedding model with the triton attention backend", () => {
    const w = adapterFor("sglang").workload(contextOf(SHIPPED_MODELS.bgeLargeZh));
    expect(w.image).toBe("lmsysorg/sglang:v0.5.10.post1");
    expect(w.command).toEqual(["python3"]);
    expect(w.args).toEqual([
      "-m",
      "sglang.launch_server",
      "--model-path",
      "BAAI/bge-large-zh-v1.5",
      "--served-model-name",
      "bge-large-zh",
      "--host",
      "0.0.0.0",
      "--port",
      "30000",
      "--context-length",
      "512",
      "--mem-fraction-static",
      "0.9",
      "--dtype",
      "auto",
      "--tp-size",
      "1",
      "--enable-metrics",
      "--bucket-e2e-request-latency",
      ...SGLANG_E2E_LATENCY_BUCKETS.map(String),
      "--is-embedding",
      "--attention-backend",
      "triton",
    ]);
  });

  it("sets latency buckets fine enough for a 300 ms p99: a bound at each objective, <= 50 ms apart up to 400 ms", () => {
    const w = adapterFor("sglang").workload(contextOf(SHIPPED_MODELS.bgeLargeZh));
    const at = w.args.indexOf("--bucket-e2e-request-latency");
    expect(at).toBeGreaterThan(0);
    // nargs "+": every value up to the next flag is a bucket bound (floats, strictly increasing).
    const end = w.args.findIndex((a, i) => i > at && a.startsWith("--"));
    const bounds = w.args.slice(at + 1, end).map(Number);
    expect(bounds.every((b) => Number.isFinite(b) && b > 0)).toBe(true);
    expect(bounds).toEqual([...bounds].sort((a, b) => a - b));
    expect(new Set(bounds).size).toBe(bounds.length);
    for (const sloMs of [300, 500, 800]) expect(bounds).toContain(sloMs / 1000);
    const upTo400 = bounds.filter((b) => b <= 0.4);
    for (let i = 1; i < upTo400.length; i++) expect(upTo400[i]! - upTo400[i - 1]!).toBeLessThanOrEqual(0.05 + 1e-9);
    // The long tail stays covered (a cold model can take minutes).
    expect(Math.max(...bounds)).toBeGreaterThanOrEqual(600);
  });

  it("runs Qwen3-Reranker without --is-embedding, with the reranker template", () => {
    const w = adapterFor("sglang").workload(
      contextOf({ ...SHIPPED_MODELS.qwen3Reranker, engine: "sglang" } as ModelInput),
    );
    expect(w.args).not.toContain("--is-embedding");
    expect(w.args.join(" ")).toContain(
      "--trust-remote-code --disable-radix-cache --chat-template /etc/retrieval-stack/qwen3_reranker.jinja",
    );
  });

  it("runs a cross-encoder reranker as an embedding model without radix cache or chunked prefill", () => {
    const w = adapterFor("sglang").workload(
      contextOf({ ...SHIPPED_MODELS.xinferenceReranker, engine: "sglang" } as ModelInput),
    );
    expect(w.args.join(" ")).toContain(
      "--is-embedding --disable-radix-cache --chunked-prefill-size -1 --attention-backend triton",
    );
  });
});

describe("TEI adapter", () => {
  it.each([
    ["l4", "89-1.9.3"],
    ["l40s", "89-1.9.3"],
  ])("picks the image build of the GPU class (%s -> %s)", (group, tag) => {
    const w = adapterFor("tei").workload(
      contextOf({ ...SHIPPED_MODELS.bgeLargeZh, engine: "tei", gpu: { nodeGroup: group } } as ModelInput),
    );
    expect(w.image).toBe(`ghcr.io/huggingface/text-embeddings-inference:${tag}`);
  });

  it("uses the CPU build without a GPU, with TEI's batch limits", () => {
    const w = adapterFor("tei").workload(contextOf(SHIPPED_MODELS.bgeSmallZhCpu, "local"));
    expect(w.image).toBe("ghcr.io/huggingface/text-embeddings-inference:cpu-1.9.3");
    expect(w.args).toEqual([
      "--model-id",
      "BAAI/bge-small-zh-v1.5",
      "--served-model-name",
      "bge-small-zh",
      "--hostname",
      "0.0.0.0",
      "--port",
      "8080",
      "--prometheus-port",
      "9000",
      "--max-batch-tokens",
      "16384",
      "--max-client-batch-size",
      "32",
      "--max-concurrent-requests",
      "512",
    ]);
    expect(w.runAsUser).toBe(1000);
  });

  it("an engineVersion replaces the version, keeping the GPU-class prefix", () => {
    const w = adapterFor("tei").workload(contextOf({ ...SHIPPED_MODELS.bgeSmallZhCpu, engineVersion: "1.8" }, "local"));
    expect(w.image).toBe("ghcr.io/huggingface/text-embeddings-inference:cpu-1.8");
  });
});

describe("KServe adapter", () => {
  it("renders an InferenceService in Standard mode (v0.20 deprecates RawDeployment) whose autoscaling KServe leaves to KEDA", () => {
    const w = adapterFor("kserve").workload(contextOf(SHIPPED_MODELS.gteBase));
    expect(w.kind).toBe("InferenceService");
    expect(w.image).toBe("kserve/huggingfaceserver:v0.20.0-gpu");
    expect(w.inferenceService?.annotations).toEqual({
      "serving.kserve.io/deploymentMode": "Standard",
      "serving.kserve.io/autoscalerClass": "external",
    });
    expect(w.args.slice(0, 3)).toEqual(["--model_name=gte-base", "--model_id=thenlper/gte-base", "--backend=vllm"]);
  });

  it("the vLLM backend gets the flags vLLM reads (--runner pooling, --convert embed), not the HF-only --task", () => {
    const embed = adapterFor("kserve").workload(contextOf(SHIPPED_MODELS.gteBase)).args;
    // huggingfaceserver defines --task only for its Hugging Face backend; with vLLM it is an unknown flag.
    expect(embed.some((a) => a.startsWith("--task"))).toBe(false);
    expect(embed).toEqual(expect.arrayContaining(["--runner=pooling", "--convert=embed"]));
    const rerank = adapterFor("kserve").workload(
      contextOf({
        ...SHIPPED_MODELS.gteBase,
        name: "rr",
        model: "BAAI/bge-reranker-base",
        task: "rerank",
      } as ModelInput),
    ).args;
    expect(rerank).toContain("--runner=pooling");
    expect(rerank.some((a) => a.startsWith("--convert") || a.startsWith("--task"))).toBe(false);
  });

  it("the Hugging Face backend embeds with --task=text_embedding (CPU image)", () => {
    const w = adapterFor("kserve").workload(
      contextOf(
        { ...SHIPPED_MODELS.gteBase, gpu: undefined, resources: { cpu: "2", memory: "2Gi" } } as ModelInput,
        "local",
      ),
    );
    expect(w.image).toBe("kserve/huggingfaceserver:v0.20.0");
    expect(w.args).toEqual([
      "--model_name=gte-base",
      "--model_id=thenlper/gte-base",
      "--backend=huggingface",
      "--http_port=8080",
      "--task=text_embedding",
      "--max_length=512",
    ]);
    expect(w.readiness).toEqual({ httpGet: { path: "/v1/models/gte-base", port: 8080 } });
  });
});

describe("Xinference adapter", () => {
  it("starts the server and launches the model from a sidecar; ready only when the UID is listed", () => {
    const w = adapterFor("xinference").workload(contextOf(SHIPPED_MODELS.xinferenceReranker));
    expect(w.image).toBe("xprobe/xinference:v3.2.1");
    expect(w.command).toEqual(["xinference-local"]);
    expect(w.readiness).toEqual({ httpGet: { path: "/v1/models/bge-reranker-v2", port: 9997 } });
    expect(w.startup).toEqual(w.readiness);
    expect(w.liveness).toEqual({ httpGet: { path: "/v1/models", port: 9997 } });
    expect(w.sidecars?.map((s) => s.name)).toEqual(["launch-model"]);
    expect(w.sidecars?.[0]?.command).toEqual(["python3", "/etc/retrieval-stack/launch-model.py"]);
    expect(JSON.parse(w.sidecars?.[0]?.env?.[LAUNCH_PAYLOAD_ENV] ?? "{}")).toEqual({
      model_uid: "bge-reranker-v2",
      model_name: "bge-reranker-v2-m3",
      model_type: "rerank",
      replica: 1,
      n_gpu: "auto",
    });
    expect(w.files?.["launch-model.py"]).toContain(`os.environ["${LAUNCH_PAYLOAD_ENV}"]`);
  });

  it("uses the -cpu image without a GPU", () => {
    const w = adapterFor("xinference").workload(
      contextOf({ ...SHIPPED_MODELS.bgeRerankerBaseCpu, engine: "xinference" } as ModelInput, "local"),
    );
    expect(w.image).toBe("xprobe/xinference:v3.2.1-cpu");
  });
});

/** python3 with the named module (the tests run the engines' Jinja2 templates and the launcher script with it). */
function python(module: string, install: string): Tool {
  return probedTool(`python3 with ${module}`, install, () => {
    execFileSync("python3", ["-c", `import ${module}`], { stdio: "ignore" });
    return "python3";
  });
}
const PY_JINJA2 = python("jinja2", apt("python3-jinja2"));
const PY = python("json", apt("python3"));

describe("Qwen3-Reranker chat template (rendered by Jinja2, as the engines do)", () => {
  const expected =
    '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n' +
    "<Instruct>: Given a web search query, retrieve relevant passages that answer the query\n<Query>: what is asyncio\n<Document>: aiohttp builds on asyncio<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";

  it("renders the model card's prompt from vLLM's messages and from SGLang's variables", (ctx) => {
    needTool(ctx, PY_JINJA2);
    const py = PY_JINJA2.path;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tpl-"));
    const file = path.join(dir, "t.jinja");
    fs.writeFileSync(file, QWEN3_RERANKER_TEMPLATE);
    const code = `
import json, sys
from jinja2.sandbox import ImmutableSandboxedEnvironment
t = open(sys.argv[1]).read()
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
vllm = env.from_string(t).render(messages=[{"role": "query", "content": "what is asyncio"}, {"role": "document", "content": "aiohttp builds on asyncio"}])
sglang = ImmutableSandboxedEnvironment().from_string(t).render(query="what is asyncio", document="aiohttp builds on asyncio", instruct=None)
custom = env.from_string(t).render(messages=[{"role": "query", "content": "q"}, {"role": "document", "content": "d"}], instruction="Find code")
print(json.dumps([vllm, sglang, custom]))`;
    const [vllm, sglang, custom] = JSON.parse(execFileSync(py, ["-c", code, file], { encoding: "utf8" })) as string[];
    fs.rmSync(dir, { recursive: true });
    expect(vllm).toBe(expected);
    expect(sglang).toBe(expected);
    expect(custom).toContain("<Instruct>: Find code\n<Query>: q\n<Document>: d<|im_end|>");
    // SGLang recognises a Qwen3 reranker template by this phrase (serving_rerank.py).
    expect(QWEN3_RERANKER_TEMPLATE.toLowerCase()).toContain('answer can only be "yes" or "no"');
  });

  it("the Xinference launcher script is valid Python", (ctx) => {
    needTool(ctx, PY);
    const py = PY.path;
    const script = launcherScript();
    execFileSync(py, ["-c", `import ast, sys; ast.parse(sys.stdin.read())`], { input: script });
  });
});

describe("Xinference launch step against a fake Xinference server on loopback", () => {
  /** Runs the launcher until it has made its first pass; returns the launch requests the server saw. */
  async function firstPass(alreadyListed: boolean): Promise<unknown[]> {
    const py = PY.path!;
    const http = await import("node:http");
    const { spawn } = await import("node:child_process");
    const launches: unknown[] = [];
    let listed = alreadyListed;
    let checks = 0;
    const server = http.createServer((req, res) => {
      if (req.method === "GET" && req.url === "/v1/models/bge-reranker-base") {
        checks++;
        res.writeHead(listed ? 200 : 400).end(listed ? '{"model_type":"rerank"}' : '{"detail":"not found"}');
      } else if (req.method === "POST" && req.url === "/v1/models") {
        let body = "";
        req
          .on("data", (c) => (body += c))
          .on("end", () => {
            launches.push(JSON.parse(body));
            listed = true;
            res.writeHead(200).end('{"model_uid":"bge-reranker-base"}');
          });
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const payload = {
      model_uid: "bge-reranker-base",
      model_name: "bge-reranker-base",
      model_type: "rerank",
      replica: 1,
      n_gpu: null,
    };
    const child = spawn(py, ["-c", launcherScript(port)], {
      env: { ...process.env, [LAUNCH_PAYLOAD_ENV]: JSON.stringify(payload) },
      stdio: "ignore",
    });
    try {
      // The launcher checks once, launches if needed, then sleeps 15 s: wait for the check (and launch), bounded.
      for (let i = 0; i < 100 && (checks === 0 || (!alreadyListed && launches.length === 0)); i++)
        await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      child.kill();
      await new Promise<void>((r) => server.close(() => r()));
    }
    expect(checks).toBeGreaterThan(0);
    return launches;
  }

  it("launches a model the server does not list, with the configured UID, name and type", async (ctx) => {
    needTool(ctx, PY);
    const launches = await firstPass(false);
    expect(launches).toEqual([
      {
        model_uid: "bge-reranker-base",
        model_name: "bge-reranker-base",
        model_type: "rerank",
        replica: 1,
        n_gpu: null,
      },
    ]);
  });

  it("does not launch a model the server already lists (idempotent restarts)", async (ctx) => {
    needTool(ctx, PY);
    const launches = await firstPass(true);
    expect(launches).toEqual([]);
  });
});
