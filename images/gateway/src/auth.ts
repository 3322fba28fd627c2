import { createHash, timingSafeEqual } from "node:crypto";
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { RuntimeConfig } from "../../../components/gateway/runtime-config";
import { RESERVED_CALLER_NAMES } from "../../../components/config/gateway";
import { GatewayError } from "./errors";

/**
 * Who is calling: a key's name, or "jwt:<identity claim>" for a token (its own principal: never the quota of a key
 * that happens to share the name), which limits, metrics and audit lines use.
 */
export interface Caller {
  readonly name: string;
  readonly via: "key" | "jwt" | "anonymous";
  /** Limit overrides of a named key. */
  readonly limits?: RuntimeConfig["keys"][number]["limits"];
  /** The stack's own caller (verification, canary): its own limits only, no customer limits or quotas. */
  readonly internal?: boolean;
  /** The models and aliases it may call; undefined: all. */
  readonly models?: ReadonlySet<string>;
}

export const sha256Hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** The presented key or token: `Authorization: Bearer <token>`, else `x-api-key`. */
function tokenOf(headers: Headers): string | undefined {
  const auth = typeof headers.authorization === "string" ? headers.authorization : undefined;
  const bearer = auth && /^bearer\s+/i.test(auth) ? auth.replace(/^bearer\s+/i, "").trim() : undefined;
  return bearer ?? (typeof headers["x-api-key"] === "string" ? headers["x-api-key"].trim() : undefined);
}

const unauthorized = (message: string) =>
  new GatewayError(401, "authentication_error", "invalid_api_key", message, null, {
    "www-authenticate": 'Bearer realm="retrieval-gateway"',
  });

/** What a token's identity claim may be: it becomes a metric label and part of every audit line. */
const IDENTITY = /^[\w.@:+\-/|]{1,128}$/;

/** A models claim: a list of names or one space-separated string (like OAuth's `scope`). */
function modelsOf(claim: unknown): ReadonlySet<string> | undefined {
  const names = typeof claim === "string" ? claim.split(/\s+/).filter(Boolean) : claim;
  if (!Array.isArray(names) || names.length === 0 || names.length > 1000) return undefined;
  if (!names.every((n) => typeof n === "string" && n.length > 0 && n.length <= 128)) return undefined;
  return new Set(names as string[]);
}

/**
 * API keys are kept only as SHA-256 hashes (the config never holds a key); a presented key is hashed and looked
 * up. A bearer token with three dot-separated parts is a JWT when JWT is configured: verified against the
 * issuer's JWKS (jose, cached and refreshed by it); it must carry `exp` within the configured lifetime.
 */
export class Authenticator {
  private readonly byHash = new Map<string, { readonly hashes: readonly string[]; readonly caller: Caller }>();
  /**
   * Keys already verified -> their caller, so that a key is hashed once, not on every request. Only keys that
   * matched a configured hash get here, so it holds at most one entry per configured hash; it lives in this
   * process's memory only (never logged or written).
   */
  private readonly verified = new Map<string, Caller>();
  private readonly jwks?: JWTVerifyGetKey;

  constructor(private readonly config: Pick<RuntimeConfig, "keys" | "jwt" | "allowAnonymous">) {
    this.replaceKeys(config.keys);
    if (config.jwt) this.jwks = createRemoteJWKSet(new URL(config.jwt.jwksUrl));
  }

  /**
   * Puts a new key set in force at once (the mounted key file changed): a key that is no longer in it is refused
   * on its next request (the verified-key cache is emptied), a new one is accepted.
   */
  replaceKeys(keys: RuntimeConfig["keys"]): void {
    this.byHash.clear();
    this.verified.clear();
    for (const k of keys) {
      const caller: Caller = {
        name: k.name,
        via: "key",
        ...(k.limits ? { limits: k.limits } : {}),
        ...(k.internal ? { internal: true } : {}),
        ...(k.models ? { models: new Set(k.models) } : {}),
      };
      for (const h of k.sha256) this.byHash.set(h, { hashes: k.sha256, caller });
    }
  }

  /** The caller of a key verified before, without a promise (the hot path); undefined: ask authenticate(). */
  verifiedCaller(headers: Headers): Caller | undefined {
    const token = tokenOf(headers);
    return token ? this.verified.get(token) : undefined;
  }

  /**
   * The caller of the request's headers, or a 401. `verifyTokens: false` (a client over its failed-auth budget)
   * still accepts API keys (a hash lookup) but not JWTs, whose signature check is the costly part.
   */
  async authenticate(headers: Headers, options: { verifyTokens?: boolean } = {}): Promise<Caller> {
    const token = tokenOf(headers);
    if (!token) {
      if (this.config.allowAnonymous) return { name: "anonymous", via: "anonymous" };
      throw unauthorized("Missing API key. Send it as 'Authorization: Bearer <key>'.");
    }
    const known = this.verified.get(token);
    if (known) return known;
    if (this.jwks && this.config.jwt && token.split(".").length === 3) {
      if (options.verifyTokens === false) throw unauthorized("Invalid or expired token.");
      return this.verifyJwt(token);
    }
    const hash = sha256Hex(token);
    const key = this.byHash.get(hash);
    // The map lookup already compared the hash; the constant-time compare keeps the last step free of timing leaks.
    if (key && key.hashes.some((h) => timingSafeEqual(Buffer.from(h), Buffer.from(hash)))) {
      this.verified.set(token, key.caller);
      return key.caller;
    }
    if (this.config.allowAnonymous) return { name: "anonymous", via: "anonymous" };
    throw unauthorized("Invalid API key.");
  }

  private async verifyJwt(token: string): Promise<Caller> {
    const jwt = this.config.jwt!;
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks!, {
        issuer: jwt.issuer,
        audience: jwt.audience,
        requiredClaims: ["exp"],
      }));
    } catch {
      throw unauthorized("Invalid or expired token.");
    }
    const now = Math.floor(Date.now() / 1000);
    const from = typeof payload.iat === "number" ? Math.min(payload.iat, now) : now;
    if (payload.exp! - from > jwt.maxLifetimeSeconds)
      throw unauthorized(`The token lives longer than ${jwt.maxLifetimeSeconds} s; ask the issuer for a shorter one.`);
    const id = payload[jwt.identityClaim];
    if (typeof id !== "string" || !IDENTITY.test(id) || RESERVED_CALLER_NAMES.includes(id))
      throw unauthorized(
        `The token's '${jwt.identityClaim}' claim must name the caller (1-128 letters, digits or . _ @ : + - / |).`,
      );
    let models: ReadonlySet<string> | undefined;
    if (jwt.modelsClaim) {
      models = modelsOf(payload[jwt.modelsClaim]);
      if (!models) throw unauthorized(`The token has no valid '${jwt.modelsClaim}' claim (the models it may call).`);
    }
    return { name: `jwt:${id}`, via: "jwt", ...(models ? { models } : {}) };
  }
}
