import { createHash } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { startGateway, tempDir, writeStack, type GatewayProcess } from "./fixtures/gateway-process";
import { gatewayStack } from "./gateway-stack";

/**
 * JWT/OIDC: the gateway verifies bearer JWTs against the issuer's JWKS (a local JWKS server on 127.0.0.1) and names
 * the caller by the identity claim in metrics and audit lines.
 */
let jwks: http.Server;
let jwksUrl: string;
let tei: FakeServer;
let gw: GatewayProcess;
type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
let privateKey: SigningKey;
let otherKey: SigningKey;
const ISSUER = "https://login.example.test/";
const TEAM_B_KEY = "team-b-key-0123456789abcdef";
const AUDIENCE = "retrieval-api";

const token = (claims: Record<string, unknown>, key = privateKey, aud = AUDIENCE, exp = "5m") =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setIssuer(ISSUER)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(key);

beforeAll(async () => {
  const pair = await generateKeyPair("ES256");
  privateKey = pair.privateKey;
  otherKey = (await generateKeyPair("ES256")).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  jwks = http.createServer((_req, res) =>
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] })),
  );
  await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
  jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
  tei = await startFakeServer({ dialect: "tei", servedModel: "emb-tei", dims: 512 });
  const stack = writeStack(
    tempDir(),
    gatewayStack({
      jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl, identityClaim: "email" },
      keys: {
        "team-b": { sha256: [createHash("sha256").update(TEAM_B_KEY).digest("hex")], limits: { dailyDocuments: 1 } },
      },
    }),
  );
  gw = await startGateway(["--stack", stack, `--upstream=emb-tei=${tei.url}`]);
}, 90_000);

afterAll(async () => {
  await gw?.stop();
  await tei?.close();
  await new Promise((r) => jwks?.close(r));
});

const embed = (bearer?: string) =>
  fetch(`${gw.url}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify({ model: "emb-tei", input: "hi", encoding_format: "float" }),
  });

describe("gateway JWT", () => {
  it("accepts a token of the issuer and audience and names the caller by its claim", async () => {
    const r = await embed(await token({ email: "ana@example.test" }));
    expect(r.status).toBe(200);
    for (let i = 0; i < 50 && gw.audit().length === 0; i++) await new Promise((res) => setTimeout(res, 100));
    // A token's caller is a principal of its own ("jwt:" + claim), never an API key of the same name.
    expect(gw.audit().at(-1)).toMatchObject({ key: "jwt:ana@example.test", status: 200 });
    const metrics = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/retrieval_gateway_requests_total\{key="jwt:ana@example.test",model="emb-tei"/);
  });

  it.each([
    ["another signer", () => token({ email: "x@example.test" }, otherKey)],
    ["another audience", () => token({ email: "x@example.test" }, privateKey, "someone-else")],
    ["an expired token", () => token({ email: "x@example.test" }, privateKey, AUDIENCE, "-1m")],
    ["no identity claim", () => token({ sub: "x" })],
    ["a reserved name", () => token({ email: "anonymous" })],
    ["an identity that is not a name", () => token({ email: "x".repeat(500) })],
    [
      "a token without exp",
      () =>
        new SignJWT({ email: "x@example.test" })
          .setProtectedHeader({ alg: "ES256", kid: "k1" })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setIssuedAt()
          .sign(privateKey),
    ],
    [
      "a token living longer than jwt.maxLifetimeSeconds (1 day)",
      () => token({ email: "x@example.test" }, privateKey, AUDIENCE, "2d"),
    ],
  ])("refuses %s with 401", async (_name, make) => {
    const r = await embed(await make());
    expect(r.status).toBe(401);
    expect(((await r.json()) as any).error.type).toBe("authentication_error");
  });

  it("a token's subject never shares a key's quota: jwt team-b spends nothing of key team-b's one document", async () => {
    const asToken = await token({ email: "team-b" });
    expect((await embed(asToken)).status).toBe(200);
    expect((await embed(asToken)).status).toBe(200);
    expect((await embed(TEAM_B_KEY)).status).toBe(200); // the key's day is untouched by the token's calls
    expect((await embed(TEAM_B_KEY)).status).toBe(429);
    expect((await embed(asToken)).status).toBe(200); // and the key's spent day does not refuse the token
  });

  it("refuses a request without a token (JWT configured: no anonymous access)", async () => {
    expect((await embed()).status).toBe(401);
  });

  it("jwt.modelsClaim scopes a token: other models answer 404 as if absent, /v1/models lists only its own", async () => {
    const rr = await startFakeServer({ dialect: "tei", servedModel: "rr-tei" });
    const scoped = await startGateway([
      "--stack",
      writeStack(
        tempDir(),
        gatewayStack({
          jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl, identityClaim: "email", modelsClaim: "models" },
        }),
      ),
      `--upstream=emb-tei=${tei.url}`,
      `--upstream=rr-tei=${rr.url}`,
    ]);
    try {
      const call = async (t: string, model: string, path = "/v1/embeddings") =>
        (
          await fetch(`${scoped.url}${path}`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${t}` },
            body: JSON.stringify({ model, input: "hi", query: "q", documents: ["a"] }),
          })
        ).status;
      const t = await token({ email: "ana@example.test", models: "emb-tei" });
      expect(await call(t, "emb-tei")).toBe(200);
      expect(await call(t, "rr-tei", "/v1/rerank")).toBe(404);
      const list = (await (
        await fetch(`${scoped.url}/v1/models`, { headers: { authorization: `Bearer ${t}` } })
      ).json()) as any;
      expect(list.data.map((m: any) => m.id)).toEqual(["emb-tei"]);
      expect(await call(await token({ email: "ana@example.test" }), "emb-tei")).toBe(401); // no claim: refused
    } finally {
      await scoped.stop();
      await rr.close();
    }
  });
});
