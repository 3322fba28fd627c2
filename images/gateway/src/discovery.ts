import type { KubeApi } from "../../common/kube-api";
import { Agent, request } from "undici";

/**
 * The ready pods of each model, from its Service's EndpointSlices (discovery.k8s.io/v1), read through the
 * Kubernetes API with the pod's service account token (a read-only Role on endpointslices in the models'
 * namespace: components/gateway/plan.ts). A LIST, then a WATCH from its resourceVersion; a dropped watch is
 * resumed, a 410 Gone or an error relists after a backoff. While the API cannot be read the model's Service is
 * used (onChange(undefined)).
 *
 * Why not @kubernetes/client-node's informers: it would add a large dependency tree to a small image for two
 * calls, a LIST and a WATCH of one resource, which undici (already the gateway's HTTP client) does in a page.
 *
 * An endpoint is ready when conditions.ready is true or absent ("a nil value indicates an unknown state; in most
 * cases consumers should interpret this unknown state as ready", and a terminating endpoint is never ready:
 * kubernetes/api discovery/v1/types.go EndpointConditions, read 2026-12-07). So a pod that is leaving drops out
 * of the set at once (it drains: endpoints.ts), a new pod joins as soon as it passes its readiness probe.
 */
interface DiscoveryTarget {
  /** What the log names (a model, or the ingress controller). */
  readonly model: string;
  readonly namespace: string;
  readonly service: string;
  /** The Service port's name (EndpointSlices list the pod port under it). */
  readonly portName: string;
  /** What the watcher reports from the slices; default: the ready endpoints' base URLs on portName (readyUrls). */
  readonly select?: (slices: Iterable<Slice>) => string[];
  /** What the log says happens while the API cannot be read; default: the model's Service is used. */
  readonly whileUnavailable?: string;
}

interface Slice {
  metadata?: { name?: string; resourceVersion?: string };
  ports?: { name?: string; port?: number }[] | null;
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean | null } }[] | null;
}

/** Base URLs of the ready endpoints of some slices, on the named port, sorted (a stable order). */
function readyUrls(slices: Iterable<Slice>, portName: string): string[] {
  const out = new Set<string>();
  for (const s of slices) {
    const port = s.ports?.find((p) => (p.name ?? "") === portName)?.port;
    if (!port) continue;
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      const a = e.addresses?.[0];
      if (a) out.add(`http://${a.includes(":") ? `[${a}]` : a}:${port}`);
    }
  }
  return [...out].sort();
}

/**
 * Every address the slices list, ready or not: the pods behind a Service while they exist. A terminating pod is
 * still listed (conditions.terminating) while it finishes its connections, so a proxy that is draining stays
 * known as a proxy until it is gone (trusted proxies: client-address.ts).
 */
export function allAddresses(slices: Iterable<Slice>): string[] {
  const out = new Set<string>();
  for (const s of slices) for (const e of s.endpoints ?? []) for (const a of e.addresses ?? []) out.add(a);
  return [...out].sort();
}

export class SliceWatcher {
  private readonly slices = new Map<string, Slice>();
  private stopped = false;
  private abort = new AbortController();
  private readonly dispatcher: Agent;
  private last: string | undefined = "unset";

  constructor(
    private readonly api: KubeApi,
    private readonly target: DiscoveryTarget,
    private readonly onChange: (urls: string[] | undefined) => void,
    private readonly log: (m: string) => void = () => {},
    private readonly backoffMs = { min: 500, max: 10_000 },
  ) {
    this.dispatcher = new Agent({ ...(api.ca ? { connect: { ca: api.ca } } : {}), bodyTimeout: 0 });
  }

  start(): void {
    void this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.dispatcher.close().catch(() => {});
  }

  private path(extra: string): string {
    const sel = encodeURIComponent(`kubernetes.io/service-name=${this.target.service}`);
    return `/apis/discovery.k8s.io/v1/namespaces/${this.target.namespace}/endpointslices?labelSelector=${sel}${extra}`;
  }

  private headers(): Record<string, string> {
    const t = this.api.token();
    return { accept: "application/json", ...(t ? { authorization: `Bearer ${t}` } : {}) };
  }

  private emit(urls: string[] | undefined): void {
    const key = urls === undefined ? undefined : urls.join(",");
    if (key === this.last) return;
    this.last = key;
    this.onChange(urls);
  }

  private selected(): string[] {
    return this.target.select
      ? this.target.select(this.slices.values())
      : readyUrls(this.slices.values(), this.target.portName);
  }

  private async loop(): Promise<void> {
    let delay = this.backoffMs.min;
    while (!this.stopped) {
      try {
        const rv = await this.list();
        delay = this.backoffMs.min;
        await this.watch(rv);
      } catch (e) {
        if (this.stopped) return;
        this.log(
          `discovery of ${this.target.model}: ${e instanceof Error ? e.message : String(e)}; ${this.target.whileUnavailable ?? "using its Service until the API answers"}`,
        );
        this.emit(undefined);
        await new Promise((r) => setTimeout(r, delay).unref?.());
        delay = Math.min(this.backoffMs.max, delay * 2);
      }
    }
  }

  private async list(): Promise<string> {
    const res = await request(`${this.api.url}${this.path("")}`, {
      headers: this.headers(),
      dispatcher: this.dispatcher,
      signal: this.abort.signal,
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`LIST endpointslices answered ${res.statusCode}`);
    }
    const body = (await res.body.json()) as { metadata?: { resourceVersion?: string }; items?: Slice[] };
    this.slices.clear();
    for (const s of body.items ?? []) this.slices.set(s.metadata?.name ?? "", s);
    this.emit(this.selected());
    return body.metadata?.resourceVersion ?? "";
  }

  /** Streams watch events until the server ends the watch (then the loop relists) or it fails. */
  private async watch(resourceVersion: string): Promise<void> {
    let rv = resourceVersion;
    while (!this.stopped) {
      const res = await request(
        `${this.api.url}${this.path(`&watch=true&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${encodeURIComponent(rv)}`)}`,
        { headers: this.headers(), dispatcher: this.dispatcher, signal: this.abort.signal, headersTimeout: 10_000 },
      );
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`WATCH endpointslices answered ${res.statusCode}`);
      }
      let buffered = "";
      for await (const chunk of res.body) {
        buffered += (chunk as Buffer).toString("utf8");
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          const ev = JSON.parse(line) as { type: string; object: Slice & { code?: number } };
          if (ev.type === "ERROR") throw new Error(`watch error ${ev.object.code ?? ""} (relisting)`);
          rv = ev.object.metadata?.resourceVersion ?? rv;
          if (ev.type === "BOOKMARK") continue;
          const name = ev.object.metadata?.name ?? "";
          if (ev.type === "DELETED") this.slices.delete(name);
          else this.slices.set(name, ev.object);
          this.emit(this.selected());
        }
      }
      // The server closed the watch (timeoutSeconds): resume from the last resourceVersion.
    }
  }
}
