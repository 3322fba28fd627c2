/**
 * The scrape path of the ingress error ratio, with a real Prometheus (Debian `prometheus`) on 127.0.0.1: a fake
 * controller exporter serves the NGINX latency histogram, Prometheus scrapes it the way the Prometheus Operator
 * renders our ServiceMonitor endpoint (target labels namespace/service/pod/endpoint/job; honor_labels from the
 * rendered object), and the error-ratio query the alert uses is evaluated on what Prometheus really stored.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { IngressSchema } from "../components/config";
import { ingressServerErrorRatio } from "../components/ingress/metrics";
import { UPSTREAM_LATENCY_HISTOGRAM } from "../components/ingress/nginx-ingress/metrics";
import { EVERY_ENGINE, PROD_INGRESS, renderIngress } from "./fixtures/ingress";
import { apt, findTool, missingToolTest } from "./fixtures/tools";
import { startPrometheus, type PrometheusProcess, type PromSample } from "./fixtures/prometheus";

const prometheus = findTool("prometheus", apt("prometheus"));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "alerts-ingress-scrape-"));
let prom: PrometheusProcess | undefined;
let exporter: http.Server | undefined;
afterAll(async () => {
  prom?.stop();
  await new Promise<void>((r) => (exporter ? exporter.close(() => r()) : r()));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The controller's exposition: per scrape, the SGLang model's Service gets 9 answers 200 and 1 answer 503. */
function startExporter(): Promise<number> {
  let scrapes = 0;
  const h = UPSTREAM_LATENCY_HISTOGRAM;
  const labels = (code: string) =>
    `upstream="vs_retrieval_retrieval-api_bge-large-zh",server="10.0.3.17:30000",code="${code}",service="bge-large-zh",resource_type="virtualserver",resource_name="retrieval-api",resource_namespace="retrieval",pod_name="bge-large-zh-0",class="nginx"`;
  exporter = http.createServer((_req, res) => {
    scrapes++;
    const lines = [`# HELP ${h} Bucketed response times`, `# TYPE ${h} histogram`];
    for (const [code, n] of [
      ["200", 9 * scrapes],
      ["503", scrapes],
    ] as const)
      lines.push(
        `${h}_bucket{${labels(code)},le="+Inf"} ${n}`,
        `${h}_sum{${labels(code)}} ${n * 12}`,
        `${h}_count{${labels(code)}} ${n}`,
      );
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(`${lines.join("\n")}\n`);
  });
  return new Promise((resolve) =>
    exporter!.listen(0, "127.0.0.1", () => resolve((exporter!.address() as net.AddressInfo).port)),
  );
}

describe("the ingress error ratio on series a real Prometheus scraped", () => {
  if (!prometheus.path) {
    missingToolTest(prometheus);
    return;
  }

  it("the rendered ServiceMonitor keeps the histogram's `service` label, so the alert's query finds the model (10% 5xx); without honorLabels it finds nothing", async () => {
    const { rendered } = await renderIngress({ environment: "prod", ingress: PROD_INGRESS });
    const sm = rendered.objects("ServiceMonitor")[0]!;
    const endpoint = sm.spec.endpoints[0];
    const svc = rendered
      .objects("Service")
      .find(
        (s) => s.metadata.labels && JSON.stringify(s.metadata.labels) === JSON.stringify(sm.spec.selector.matchLabels),
      )!;
    const exporterPort = await startExporter();
    // What the operator generates for a ServiceMonitor endpoint, as target labels (prometheus-operator
    // pkg/prometheus/promcfg.go relabelings: namespace, service, pod, endpoint, job = Service name).
    const targetLabels = {
      namespace: sm.metadata.namespace,
      service: svc.metadata.name,
      pod: "nginx-ingress-7d9f8-abcde",
      endpoint: endpoint.port,
    };
    const job = (name: string, honor: boolean) => ({
      job_name: name,
      honor_labels: honor,
      scrape_interval: "1s",
      scrape_timeout: "1s",
      metrics_path: endpoint.path,
      static_configs: [{ targets: [`127.0.0.1:${exporterPort}`], labels: targetLabels }],
    });
    const config = {
      global: { evaluation_interval: "1s" },
      scrape_configs: [job("rendered", endpoint.honorLabels ?? false), job("without-honor-labels", false)],
    };
    prom = await startPrometheus(prometheus.path!, dir, config);
    const query = prom.query;
    const ratio = ingressServerErrorRatio(
      "bge-large-zh",
      EVERY_ENGINE,
      IngressSchema.parse(PROD_INGRESS),
      "retrieval",
    )!("10s");
    let result: PromSample[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      result = await query(ratio);
      if (result.length && Number(result[0]!.value[1]) > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(result.map((s) => Number(s.value[1]))).toEqual([expect.closeTo(0.1, 5)]);

    // Only the job scraped as rendered kept `service`; the other one stored it as `exported_service`.
    const byJob = await query(`count by (job, service, exported_service) (${UPSTREAM_LATENCY_HISTOGRAM}_count)`);
    const rows = byJob
      .map((s) => `${s.metric.job}: service=${s.metric.service} exported_service=${s.metric.exported_service ?? "-"}`)
      .sort();
    expect(rows).toEqual([
      "rendered: service=bge-large-zh exported_service=-",
      `without-honor-labels: service=${svc.metadata.name} exported_service=bge-large-zh`,
    ]);
  }, 60_000);
});
