import type * as http from "node:http";
import { BlockList, isIP } from "node:net";
import { LRUCache } from "lru-cache";

/**
 * The client's address: the socket's peer, unless that peer is a trusted proxy, in which case the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy (what NGINX's realip module does with
 * `real_ip_recursive on`). From anyone else the header is ignored: a client cannot choose the address its failed
 * attempts are counted against.
 *
 * Trusted proxies are the `trustedProxies` CIDRs plus the ingress controller's pod addresses as discovered from
 * its Service's EndpointSlices (setDiscovered, server.ts). While discovery is unavailable only the CIDRs are
 * trusted (setDiscovered(undefined)): never an address that might since belong to another pod.
 */
export class ClientAddress {
  private readonly trusted = new BlockList();
  private readonly cidrs: boolean;
  private discovered: ReadonlySet<string> = new Set();

  constructor(cidrs: readonly string[]) {
    for (const c of cidrs) {
      const [net, bits] = c.split("/");
      const type = isIP(net ?? "") === 6 ? "ipv6" : "ipv4";
      this.trusted.addSubnet(net!, Number(bits), type);
    }
    this.cidrs = cidrs.length > 0;
  }

  /** The proxies' pod addresses from discovery; undefined: discovery is unavailable (trust the CIDRs only). */
  setDiscovered(addresses: readonly string[] | undefined): void {
    this.discovered = new Set((addresses ?? []).map(plain));
  }

  isTrusted(address: string): boolean {
    const a = plain(address);
    if (this.discovered.has(a)) return true;
    if (!this.cidrs) return false;
    const type = isIP(a);
    return type !== 0 && this.trusted.check(a, type === 6 ? "ipv6" : "ipv4");
  }

  of(req: http.IncomingMessage): string {
    const peer = plain(req.socket.remoteAddress ?? "");
    if (!this.isTrusted(peer)) return peer;
    const xff = req.headers["x-forwarded-for"];
    if (typeof xff !== "string" || xff.length > 4096) return peer;
    const hops = xff.split(",");
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = plain(hops[i]!.trim());
      if (isIP(hop) === 0) return peer;
      if (!this.isTrusted(hop)) return hop;
    }
    return peer;
  }
}

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
const plain = (a: string) => (a.startsWith("::ffff:") && isIP(a.slice(7)) === 4 ? a.slice(7) : a);

/**
 * Failed authentications per client address: a bucket of `perMinute` refilled continuously. A client that has
 * spent it gets 429 for further failures (and its JWTs are no longer verified) until it refills; a valid key is
 * never slowed, whatever its address did. At most 100,000 addresses are tracked (least recently seen dropped).
 */
export class AuthThrottle {
  private readonly buckets = new LRUCache<string, { left: number; at: number }>({ max: 100_000 });
  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  private bucket(client: string) {
    const now = this.now();
    const b = this.buckets.get(client) ?? { left: this.perMinute, at: now };
    b.left = Math.min(this.perMinute, b.left + ((now - b.at) * this.perMinute) / 60_000);
    b.at = now;
    this.buckets.set(client, b);
    return b;
  }

  /** Whether the client has failures left (true: verify its token as usual). */
  allowed(client: string): boolean {
    return this.bucket(client).left >= 1;
  }

  /** Records a failure; returns the seconds until the client may fail again, 0 while it has failures left. */
  fail(client: string): number {
    const b = this.bucket(client);
    if (b.left >= 1) {
      b.left -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - b.left) * 60) / this.perMinute));
  }
}
