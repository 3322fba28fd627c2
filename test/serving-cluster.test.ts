// What would break or weaken a ModelService on a real cluster (issue 15, items 3-6): await budgets, the node
// weight cache, double scraping of KServe models, and what the NetworkPolicy really admits.
import { describe, expect, it } from "vitest";
import { CONTROLLER_SELECTOR } from "../components/ingress/nginx-ingress/chart";
import { IMAGE_PULL_SECONDS, NODE_PROVISION_SECONDS } from "../components/serving/autoscaling";
import { DEFAULT_PEERS, planNetworkPolicy } from "../components/serving/network-policy";
import { NAMESPACE_NAME_LABEL } from "../components/k8s/namespaces";
import { SHIPPED_MODELS, engineContainer, one, podSpecOf, renderModel } from "./fixtures/serving";

const seconds = (d: string) => {
  expect(d).toMatch(/^\d+s$/);
  return Number(d.slice(0, -1));
};

describe("Pulumi waits as long as a model may take to come up (customTimeouts)", async () => {
  const reranker = await renderModel(SHIPPED_MODELS.qwen3Reranker);
  const kserve = await renderModel(SHIPPED_MODELS.gteBase);
  const cpu = await renderModel(SHIPPED_MODELS.bgeSmallZhCpu, { environment: "local" });

  it("a GPU Deployment: node provision + image pull + startup budget, far beyond Pulumi's 10-minute default", () => {
    const t = reranker.timeouts.get("qwen3-reranker-deployment")!;
    const one = NODE_PROVISION_SECONDS + IMAGE_PULL_SECONDS + reranker.component.pod.startupBudgetSeconds;
    expect(seconds(t.create)).toBeGreaterThan(one);
    expect(seconds(t.create)).toBeGreaterThan(600);
    // A RollingUpdate with maxSurge 1 replaces the replicas one after another (replicas.max 4).
    expect(seconds(t.update)).toBeGreaterThanOrEqual(4 * one);
  });

  it("the Deployment's own progress deadline does not fire before the pod can have a node and its image", () => {
    const d = one(reranker, "Deployment");
    expect(d.spec.progressDeadlineSeconds).toBeGreaterThanOrEqual(
      NODE_PROVISION_SECONDS + IMAGE_PULL_SECONDS + reranker.component.pod.startupBudgetSeconds,
    );
  });

  it("the KServe InferenceService gets the same budget, and Pulumi waits for its Ready condition", () => {
    expect(one(kserve, "InferenceService").metadata.annotations["pulumi.com/waitFor"]).toBe("condition=Ready");
    const t = kserve.timeouts.get("gte-base-isvc")!;
    expect(seconds(t.create)).toBeGreaterThan(
      NODE_PROVISION_SECONDS + IMAGE_PULL_SECONDS + kserve.component.pod.startupBudgetSeconds,
    );
  });

  it("a CPU model waits for no GPU node, but still for its image and startup", () => {
    const t = cpu.timeouts.get("bge-small-zh-deployment")!;
    const budget = IMAGE_PULL_SECONDS + cpu.component.pod.startupBudgetSeconds;
    expect(seconds(t.create)).toBeGreaterThan(budget);
    expect(seconds(t.create)).toBeLessThan(budget + NODE_PROVISION_SECONDS);
  });
});

describe("node weight cache: one directory per model", async () => {
  const sglang = await renderModel(SHIPPED_MODELS.bgeLargeZh);
  const kserve = await renderModel(SHIPPED_MODELS.gteBase);
  const cachePath = (r: any) => podSpecOf(r).volumes.find((v: any) => v.name === "model-cache").hostPath.path;

  it("two models on one node mount disjoint node directories (neither inside the other)", () => {
    const a = cachePath(sglang);
    const b = cachePath(kserve);
    expect(a).toBe("/var/lib/retrieval-stack/model-cache/retrieval/bge-large-zh");
    expect(b).toBe("/var/lib/retrieval-stack/model-cache/retrieval/gte-base");
    expect(a.startsWith(`${b}/`) || b.startsWith(`${a}/`) || a === b).toBe(false);
  });

  it("KServe's chown to UID 1000 reaches only its own model's directory, which no root engine mounts", () => {
    const pod = podSpecOf(kserve);
    const init = pod.initContainers.find((c: any) => c.name === "cache-permissions");
    expect(init.command.join(" ")).toBe("sh -c chown -R 1000:1000 /cache");
    expect(init.volumeMounts).toEqual([{ name: "model-cache", mountPath: "/cache" }]);
    // The SGLang pod (root, no DAC_OVERRIDE) writes a directory the chown never touched.
    expect(cachePath(sglang)).not.toBe(cachePath(kserve));
    expect(engineContainer(sglang).securityContext.capabilities).toEqual({ drop: ["ALL"] });
  });

  it("the same model in two namespaces keeps two caches", async () => {
    const other = await renderModel(SHIPPED_MODELS.bgeLargeZh, { namespace: "search" });
    expect(cachePath(other)).toBe("/var/lib/retrieval-stack/model-cache/search/bge-large-zh");
  });
});

/** Labels of the `<name>-predictor` Service KServe creates: runtime, InferenceService and predictor labels plus its own. */
function kservePredictorServiceLabels(isvc: any): Record<string, string> {
  return {
    ...isvc.metadata.labels,
    ...isvc.spec.predictor.labels,
    "serving.kserve.io/inferenceservice": isvc.metadata.name,
    component: "predictor",
  };
}
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe("KServe models are scraped once", async () => {
  const r = await renderModel(SHIPPED_MODELS.gteBase);
  const isvc = one(r, "InferenceService");
  const ours = one(r, "Service");
  const sm = one(r, "ServiceMonitor");

  it("the ServiceMonitor selects our Service and not KServe's predictor Service", () => {
    const selector = sm.spec.selector.matchLabels;
    expect(matches(selector, ours.metadata.labels)).toBe(true);
    expect(matches(selector, kservePredictorServiceLabels(isvc))).toBe(false);
  });

  it("control: a selector on the pods' labels (as before) matches both Services", () => {
    expect(matches(ours.spec.selector, ours.metadata.labels)).toBe(true);
    expect(matches(ours.spec.selector, kservePredictorServiceLabels(isvc))).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------------------------
// NetworkPolicy semantics (networking.k8s.io/v1): a pod is admitted when some rule's peer selects it and the port
// is listed; a peer with namespaceSelector and podSelector needs both; a podSelector alone means the policy's
// namespace. Egress likewise, with ipBlock peers (cidr minus except).
// ------------------------------------------------------------------------------------------------------------
interface Pod {
  readonly namespace: string;
  readonly labels: Record<string, string>;
}
const POLICY_NAMESPACE = "retrieval";

function selects(peer: any, pod: Pod): boolean {
  const nsLabels = { [NAMESPACE_NAME_LABEL]: pod.namespace };
  if (peer.namespaceSelector) {
    if (!matches(peer.namespaceSelector.matchLabels ?? {}, nsLabels)) return false;
  } else if (pod.namespace !== POLICY_NAMESPACE) return false;
  return matches(peer.podSelector?.matchLabels ?? {}, pod.labels);
}
function admits(spec: any, pod: Pod, port: number): boolean {
  return (spec.ingress ?? []).some(
    (rule: any) => rule.ports.some((p: any) => p.port === port) && rule.from.some((peer: any) => selects(peer, pod)),
  );
}
const ip = (a: string) => a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
function inCidr(addr: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ip(addr) / size) === Math.floor(ip(base!) / size);
}
function egressTo(spec: any, addr: string, port: number, protocol = "TCP"): boolean {
  if (!spec.policyTypes.includes("Egress")) return true;
  return spec.egress.some(
    (rule: any) =>
      rule.ports.some((p: any) => p.port === port && p.protocol === protocol) &&
      rule.to.some(
        (peer: any) =>
          peer.ipBlock &&
          inCidr(addr, peer.ipBlock.cidr) &&
          !(peer.ipBlock.except ?? []).some((e: string) => inCidr(addr, e)),
      ),
  );
}

describe("what the model's NetworkPolicy admits", async () => {
  const r = await renderModel(SHIPPED_MODELS.bgeLargeZh);
  const np = one(r, "NetworkPolicy").spec;
  const HTTP = 30000;
  const controller: Pod = { namespace: "ingress", labels: { ...CONTROLLER_SELECTOR, "pod-template-hash": "x" } };
  const prometheus: Pod = {
    namespace: "monitoring",
    labels: { "app.kubernetes.io/name": "prometheus", "operator.prometheus.io/name": "kube-prometheus-stack" },
  };

  it("the ingress controller's pods, not every pod of its namespace", () => {
    expect(admits(np, controller, HTTP)).toBe(true);
    expect(admits(np, { namespace: "ingress", labels: { app: "cm-acme-http-solver" } }, HTTP)).toBe(false);
  });

  it("Prometheus pods, not Grafana or Alertmanager next to them", () => {
    expect(admits(np, prometheus, HTTP)).toBe(true);
    expect(admits(np, { namespace: "monitoring", labels: { "app.kubernetes.io/name": "grafana" } }, HTTP)).toBe(false);
    expect(admits(np, { namespace: "monitoring", labels: { "app.kubernetes.io/name": "alertmanager" } }, HTTP)).toBe(
      false,
    );
  });

  it("the verifier in the model's namespace, not other pods there or anywhere else", () => {
    const verifier = { namespace: "retrieval", labels: { "retrieval-stack.io/engine-client": "true" } };
    expect(admits(np, verifier, HTTP)).toBe(true);
    expect(admits(np, { ...verifier, namespace: "default" }, HTTP)).toBe(false);
    expect(admits(np, { namespace: "retrieval", labels: { app: "something" } }, HTTP)).toBe(false);
  });

  it("the default ingress peers are the pods our NGINX chart runs", () => {
    expect(DEFAULT_PEERS.ingress[0]!.podLabels).toEqual(CONTROLLER_SELECTOR);
  });

  it("peers are arguments: a controller in ingress-nginx and a gateway replace the defaults", () => {
    const spec = planNetworkPolicy({
      podSelector: { m: "1" },
      httpPort: 8000,
      metricsPort: 8000,
      peers: {
        ingress: [
          {
            namespaceLabels: { [NAMESPACE_NAME_LABEL]: "ingress-nginx" },
            podLabels: { "app.kubernetes.io/name": "ingress-nginx" },
          },
        ],
        gateway: [{ podLabels: { "app.kubernetes.io/name": "gateway" } }],
      },
    });
    const theirs = { namespace: "ingress-nginx", labels: { "app.kubernetes.io/name": "ingress-nginx" } };
    expect(admits(spec, theirs, 8000)).toBe(true);
    expect(admits(spec, controller, 8000)).toBe(false);
    expect(admits(spec, { namespace: "retrieval", labels: { "app.kubernetes.io/name": "gateway" } }, 8000)).toBe(true);
    // Roles not given keep their defaults.
    expect(admits(spec, prometheus, 8000)).toBe(true);
  });

  it("egress: DNS and public HTTPS (the hub) only; no IMDS, no VPC, no other pods", () => {
    expect(np.policyTypes).toEqual(["Ingress", "Egress"]);
    const dns = np.egress.find((e: any) => e.ports.some((p: any) => p.port === 53));
    expect(dns.to).toEqual([
      {
        namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: "kube-system" } },
        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
      },
    ]);
    expect(dns.ports).toEqual([
      { protocol: "UDP", port: 53 },
      { protocol: "TCP", port: 53 },
    ]);
    expect(egressTo(np, "18.160.10.5", 443)).toBe(true); // a public CDN address of the hub
    expect(egressTo(np, "18.160.10.5", 80)).toBe(false);
    expect(egressTo(np, "169.254.169.254", 80)).toBe(false); // IMDS
    expect(egressTo(np, "169.254.169.254", 443)).toBe(false);
    expect(egressTo(np, "10.0.12.7", 443)).toBe(false); // the VPC (pods, nodes, the API server's ENIs)
    expect(egressTo(np, "172.20.0.1", 443)).toBe(false); // EKS's service range
  });

  it("a mirror replaces the internet; egress: false leaves egress open", async () => {
    const mirrored = one(
      await renderModel(SHIPPED_MODELS.bgeLargeZh, { egress: { hub: [{ cidr: "10.20.0.0/16", ports: [8443] }] } }),
      "NetworkPolicy",
    ).spec;
    expect(egressTo(mirrored, "10.20.3.4", 8443)).toBe(true);
    expect(egressTo(mirrored, "18.160.10.5", 443)).toBe(false);
    const open = one(await renderModel(SHIPPED_MODELS.bgeLargeZh, { egress: false }), "NetworkPolicy").spec;
    expect(open.policyTypes).toEqual(["Ingress"]);
    expect(open.egress).toBeUndefined();
  });
});

describe("a model with its own metrics port", () => {
  it("admits Prometheus on the metrics port only, callers on the HTTP port only", async () => {
    const np = one(await renderModel(SHIPPED_MODELS.xinferenceReranker), "NetworkPolicy").spec;
    const prometheus = { namespace: "monitoring", labels: { "app.kubernetes.io/name": "prometheus" } };
    expect(admits(np, prometheus, 9998)).toBe(true);
    expect(admits(np, prometheus, 9997)).toBe(false);
    expect(admits(np, { namespace: "ingress", labels: { ...CONTROLLER_SELECTOR } }, 9997)).toBe(true);
    expect(admits(np, { namespace: "ingress", labels: { ...CONTROLLER_SELECTOR } }, 9998)).toBe(false);
  });
});
