import { afterAll, describe, expect, it } from "vitest";
import { verifyTarget } from "../images/verifier/src/verify";
import type { VerifyOptions } from "../components/contracts/verify-target";
import { startHostileServer, type HostileServer } from "./fixtures/hostile-server";

/**
 * Answers that are wrong in their bytes, over real sockets (#23 "Verifier and canary"): a body that is not UTF-8,
 * and a /v1/models answer of a million numbers. Each must fail with a message that says what came back.
 */
const OPTIONS: VerifyOptions = {
  requests: 2,
  concurrency: 1,
  timeoutSeconds: 20,
  requestTimeoutSeconds: 5,
  maxRetries: 0,
  quality: { enabled: false, minMrrAt10: 0.75 },
  checkLoadGenerator: false,
};
const servers: HostileServer[] = [];
afterAll(async () => Promise.all(servers.map((s) => s.close())));

async function verifyAgainst(body: Buffer, dialect = "openai") {
  const s = await startHostileServer("body", { body });
  servers.push(s);
  const report = await verifyTarget(
    { name: "m", url: s.url, dialect, task: "embed", servedModel: "m", normalized: false },
    OPTIONS,
  );
  return report.checks;
}

describe("the verifier reads engine answers byte-exactly", () => {
  it("a body that is not UTF-8 fails saying so (it used to decode to U+FFFD and report a field absent)", async () => {
    // {"data": ...} with the key's "a" sent as Latin-1 0xE1 (a lone lead byte): invalid UTF-8.
    const body = Buffer.concat([
      Buffer.from('{"object":"list","d'),
      Buffer.from([0xe1]),
      Buffer.from('ta":[{"id":"m"}]}'),
    ]);
    const checks = await verifyAgainst(body);
    const health = checks.find((c) => c.check === "health")!;
    expect(health.status).toBe("fail");
    expect(health.got).toMatch(
      /^HTTP 200 from \/v1\/models with a body that is not valid UTF-8 \(byte 19 of 37 is 0xe1; bytes around it: [0-9a-f]+\)/,
    );
    expect(JSON.stringify(checks)).not.toContain("field absent");
  });

  it("a /v1/models answer of a million numbers is named, not reported as [undefined]", async () => {
    const numbers = `[${Array.from({ length: 1_000_000 }, (_, i) => i % 10).join(",")}]`;
    const checks = await verifyAgainst(Buffer.from(`{"object":"list","data":[{"object":"model","ids":${numbers}}]}`));
    const served = checks.find((c) => c.check === "model.served")!;
    expect(served.status).toBe("fail");
    expect(served.got).toBe(
      "unexpected body: /v1/models.data[0].id: expected the served model name (a string), got nothing (field absent)",
    );
    const bare = await verifyAgainst(Buffer.from(`{"data":${numbers}}`), "xinference");
    // Xinference's health is its model list (the served uid must be there).
    const row = bare.find((c) => c.check === "health")!;
    expect(row.got).toBe(
      'unexpected body: /v1/models.data[0]: expected a model {"id"} or its uid (a string), got the number 0',
    );
    expect(row.got.length).toBeLessThan(200);
  });
});
