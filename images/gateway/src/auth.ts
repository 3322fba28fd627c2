import { createHash, timingSafeEqual } from "node:crypto";
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { RuntimeConfig } from "../../../components/gateway/runtime-config";
import { GatewayError } from "./errors";

/** Who is calling: the key's name (or the JWT identity claim), which limits, metrics and audit lines use. */
export interface Caller {
  readonly name: string;
  readonly via: "key" | "jwt" | "anonymous";
  /** Limit overrides of a named key. */
  readonly limits?: RuntimeConfig["keys"][number]["limits"];
  /** The stack's own caller (verification, canary): its own limits only, no customer limits or quotas. */
  readonly internal?: boolean;
  /** Models (or aliases) the key may call; absent: all. */
  readonly models?: readonly string[];
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

/**
 * API keys are kept only as SHA-256 hashes (the config never holds a key); a presented key is hashed and looked
 * up. A bearer token with three dot-separated parts is a JWT when JWT is configured: verified against the
 * issuer's JWKS (jose, cached and refreshed by it), and the identity claim names the caller.
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
        ...(k.models ? { models: k.models } : {}),
      };
      for (const h of k.sha256) this.byHash.set(h, { hashes: k.sha256, caller });
    }
  }

  /** The caller of a key verified before, without a promise (the hot path); undefined: ask authenticate(). */
  verifiedCaller(headers: Headers): Caller | undefined {
    const token = tokenOf(headers);
    return token ? this.verified.get(token) : undefined;
  }

  async authenticate(headers: Headers): Promise<Caller> {
    const token = tokenOf(headers);
    if (!token) {
      if (this.config.allowAnonymous) return { name: "anonymous", via: "anonymous" };
      throw unauthorized("Missing API key. Send it as 'Authorization: Bearer <key>'.");
    }
    const known = this.verified.get(token);
    if (known) return known;
    if (this.jwks && this.config.jwt && token.split(".").length === 3) return this.verifyJwt(token);
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
    try {
      const { payload } = await jwtVerify(token, this.jwks!, { issuer: jwt.issuer, audience: jwt.audience });
      const id = payload[jwt.identityClaim];
      if (typeof id !== "string" || id === "")
        throw unauthorized(`The token has no '${jwt.identityClaim}' claim to identify the caller.`);
      return { name: id, via: "jwt" };
    } catch (e) {
      if (e instanceof GatewayError) throw e;
      throw unauthorized("Invalid or expired token.");
    }
  }
}
