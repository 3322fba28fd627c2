import { describe, expect, it } from "vitest";
import { Authenticator, sha256Hex } from "../images/gateway/src/auth";
import { GatewayError } from "../images/gateway/src/errors";

/**
 * The key check remembers keys it has verified (so a key is hashed once, not per request): what it answers must
 * not depend on what it saw before.
 */
const A = "key-a-0123456789abcdef";
const A2 = "key-a-rotated-0123456789";
const B = "key-b-0123456789abcdef";

const auth = () =>
  new Authenticator({
    keys: [
      { name: "team-a", sha256: [sha256Hex(A), sha256Hex(A2)] },
      { name: "team-b", sha256: [sha256Hex(B)], limits: { requestsPerSecond: 5 } },
    ],
    allowAnonymous: false,
  });

const status = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: unknown) => (e instanceof GatewayError ? e.status : 500),
  );

describe("API keys", () => {
  it("the same key answers the same caller every time, by header or x-api-key; rotated keys keep the name", async () => {
    const a = auth();
    for (let i = 0; i < 3; i++) {
      expect(await a.authenticate({ authorization: `Bearer ${A}` })).toMatchObject({ name: "team-a", via: "key" });
      expect(await a.authenticate({ "x-api-key": A2 })).toMatchObject({ name: "team-a", via: "key" });
      expect(await a.authenticate({ authorization: `bearer   ${B}` })).toMatchObject({
        name: "team-b",
        limits: { requestsPerSecond: 5 },
      });
    }
  });

  it("unknown, truncated or extended keys are refused also after the real key was seen", async () => {
    const a = auth();
    await a.authenticate({ authorization: `Bearer ${A}` });
    for (const wrong of [A.slice(0, -1), `${A}x`, A.toUpperCase(), "key-c-0123456789abcdef"])
      expect(await status(a.authenticate({ authorization: `Bearer ${wrong}` }))).toBe(401);
    expect(await status(a.authenticate({}))).toBe(401);
    expect(await status(a.authenticate({ authorization: `Bearer ${A}` }))).toBe(200);
  });
});
