import { Pool } from "undici";

/**
 * The engine pods of one model that a request may go to, and how busy each is: per-pod routing by least
 * outstanding work (the vLLM production-stack router and llm-d's endpoint picker route by load per pod, not per
 * connection). The set comes from EndpointSlice discovery (discovery.ts); while discovery is unavailable the
 * model's Service URL is the one endpoint. A pod that refuses a connection is skipped at once (until discovery
 * lists it again or `refusedForMs` passes); a pod that leaves the set takes no new request and its connections
 * close once its in-flight requests are answered (drain).
 */
interface Endpoint {
  readonly url: string;
  readonly pool: Pool;
  /** Estimated work (work.ts) of the requests in flight on this pod. */
  outstanding: number;
  inFlight: number;
  refusedUntil: number;
  leaving: boolean;
  readonly paths: Map<string, string>;
}

interface EndpointSetOptions {
  readonly connections?: number;
  readonly refusedForMs?: number;
  readonly now?: () => number;
  /**
   * While discovery is unavailable, learn whether the Service has a pod behind it by probing it (a model scaled to
   * zero then holds its requests in the wake queue instead of failing them). Only for models whose pods are
   * discovered in the cluster; absent: the fallback is taken as ready, as before.
   */
  readonly probe?: ServiceProbe;
}

/** How the fallback Service is probed while discovery is unavailable. */
export interface ServiceProbe {
  /** Between probes while the Service has no pod behind it (how soon a woken model is noticed). */
  readonly downIntervalMs: number;
  /** Between probes while it has (how soon a model scaled to zero is noticed). */
  readonly upIntervalMs: number;
  /** A probe not answered within this counts as no pod. */
  readonly timeoutMs: number;
}

export class EndpointSet {
  private readonly active = new Map<string, Endpoint>();
  private readonly draining = new Set<Endpoint>();
  private waiters: (() => void)[] = [];
  /** Which list is in force: the discovered pods, or the fallback (the Service) while discovery is unavailable. */
  private source: "fallback" | "discovery" = "fallback";
  private rr = 0;
  /** While probing the fallback: whether the last probe (or call) found a pod behind the Service. */
  private fallbackUp = true;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;

  constructor(
    private readonly fallback: readonly string[],
    private readonly options: EndpointSetOptions = {},
  ) {
    this.replace(fallback);
  }

  /** The discovered ready pods (base URLs); undefined: discovery is unavailable, the fallback is used. */
  update(urls: readonly string[] | undefined): void {
    this.source = urls === undefined ? "fallback" : "discovery";
    this.replace(urls ?? this.fallback);
    if (urls === undefined) this.startProbing();
    else this.stopProbing();
  }

  /**
   * The fallback Service refused a connection or did not answer: no pod is behind it (kube-proxy refuses
   * connections to a Service without ready endpoints). Requests wait in the wake queue until a probe finds one.
   */
  fallbackRefused(): void {
    if (!this.probing || this.source !== "fallback") return;
    this.fallbackUp = false;
    this.scheduleProbe(0);
  }

  /** Whether a failed call to `e` means "no pod behind the Service" (and the caller may wait for one). */
  isProbedFallback(e: Endpoint): boolean {
    return this.probing && this.source === "fallback" && this.active.get(e.url) === e;
  }

  get discovered(): boolean {
    return this.source === "discovery";
  }

  /** Pods that may take a request now (0 while a model is scaled to zero or all its pods are starting). */
  get ready(): number {
    if (this.probing && this.source === "fallback" && !this.fallbackUp) return 0;
    return this.active.size;
  }

  list(): readonly Endpoint[] {
    return [...this.active.values()];
  }

  /** Resolves when at least one endpoint is ready (at once if one is), or after `timeoutMs` with false. */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.ready > 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      timer.unref?.();
      this.waiters.push(done);
    });
  }

  /**
   * The endpoint with the least outstanding work (after this request's), skipping `tried` (a retry goes to
   * another pod) and pods that refused a connection lately; ties go round-robin. Undefined: none is left.
   */
  pick(work: number, tried: ReadonlySet<string>): Endpoint | undefined {
    const now = (this.options.now ?? Date.now)();
    let best: Endpoint | undefined;
    let bestLoad = Infinity;
    let refusedBest: Endpoint | undefined;
    const all = this.list();
    const n = all.length;
    const start = n ? this.rr++ % n : 0;
    for (let i = 0; i < n; i++) {
      const e = all[(start + i) % n]!;
      if (tried.has(e.url)) continue;
      if (e.refusedUntil > now) {
        refusedBest ??= e;
        continue;
      }
      const load = e.outstanding + work;
      if (load < bestLoad) {
        best = e;
        bestLoad = load;
      }
    }
    // Every untried pod refused lately: try one anyway rather than fail without a call.
    return best ?? refusedBest;
  }

  begin(e: Endpoint, work: number): void {
    e.outstanding += work;
    e.inFlight++;
  }

  end(e: Endpoint, work: number): void {
    e.outstanding -= work;
    e.inFlight--;
    if (e.leaving && e.inFlight === 0) this.closeDrained(e);
  }

  refused(e: Endpoint): void {
    e.refusedUntil = (this.options.now ?? Date.now)() + (this.options.refusedForMs ?? 5000);
  }

  async close(): Promise<void> {
    this.stopProbing();
    const all = [...this.active.values(), ...this.draining];
    this.active.clear();
    this.draining.clear();
    // The drain time has passed: calls still running are cut.
    await Promise.all(all.map((e) => e.pool.destroy().catch(() => {})));
  }

  private replace(urls: readonly string[]): void {
    const next = new Set(urls);
    for (const [url, e] of this.active)
      if (!next.has(url)) {
        this.active.delete(url);
        e.leaving = true;
        if (e.inFlight === 0) void e.pool.close().catch(() => {});
        else this.draining.add(e);
      }
    for (const url of next) {
      const e = this.active.get(url);
      // Listed (again) by discovery: a refusal before is forgotten.
      if (e) e.refusedUntil = 0;
      else
        this.active.set(url, {
          url,
          pool: new Pool(url, {
            connections: this.options.connections ?? 128,
            pipelining: 1,
            keepAliveTimeout: 30_000,
            connectTimeout: 5_000,
          }),
          outstanding: 0,
          inFlight: 0,
          refusedUntil: 0,
          leaving: false,
          paths: new Map(),
        });
    }
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    if (this.ready > 0 && this.waiters.length) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  private startProbing(): void {
    if (!this.options.probe || this.probing) return;
    this.probing = true;
    this.fallbackUp = true;
    this.scheduleProbe(0);
  }

  private stopProbing(): void {
    this.probing = false;
    this.fallbackUp = true;
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  private scheduleProbe(ms: number): void {
    clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => void this.probeOnce(), ms);
    this.probeTimer.unref?.();
  }

  /**
   * One GET of the Service's root: any HTTP answer but 502/503/504 means an engine process answered through it (a
   * Service routes only to ready pods); a refused, reset or unanswered connection, or a 5xx of a starting server,
   * means none yet.
   */
  private async probeOnce(): Promise<void> {
    const p = this.options.probe;
    const e = this.active.get(this.fallback[0] ?? "");
    if (!p || !this.probing || this.source !== "fallback" || !e) return;
    let up = false;
    try {
      const res = await e.pool.request({
        path: "/",
        method: "GET",
        headersTimeout: p.timeoutMs,
        bodyTimeout: p.timeoutMs,
        signal: AbortSignal.timeout(p.timeoutMs),
      });
      await res.body.dump().catch(() => {});
      up = res.statusCode < 502 || res.statusCode > 504;
    } catch {
      up = false;
    }
    if (!this.probing || this.source !== "fallback") return;
    this.fallbackUp = up;
    if (up) {
      e.refusedUntil = 0;
      this.wakeWaiters();
    }
    this.scheduleProbe(up ? p.upIntervalMs : p.downIntervalMs);
  }

  private closeDrained(e: Endpoint): void {
    this.draining.delete(e);
    void e.pool.close().catch(() => {});
  }
}
