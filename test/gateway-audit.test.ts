import { afterEach, describe, expect, it, vi } from "vitest";
import { isoNow, stdoutAudit } from "../images/gateway/src/audit";

/**
 * The audit line's time and framing: the gateway makes the time string from a per-second prefix and writes the
 * lines of one event-loop turn together; what a log pipeline reads must not change for it.
 */
afterEach(() => vi.restoreAllMocks());

describe("audit lines", () => {
  it("time is the same ISO-8601 string as Date.toISOString, milliseconds zero-padded, across second changes", () => {
    for (const ms of [
      Date.UTC(2026, 11, 1, 22, 19, 45, 0),
      Date.UTC(2026, 11, 1, 22, 19, 45, 7),
      Date.UTC(2026, 11, 1, 22, 19, 45, 42),
      Date.UTC(2026, 11, 1, 22, 19, 45, 999),
      Date.UTC(2026, 11, 1, 22, 19, 46, 3),
      Date.UTC(2026, 11, 2, 0, 0, 0, 120),
    ]) {
      vi.spyOn(Date, "now").mockReturnValue(ms);
      expect(isoNow()).toBe(new Date(ms).toISOString());
    }
  });

  it("one JSON object per line, 'audit' first, absent fields left out, written by the next turn", async () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const line = {
      time: "2026-12-01T22:19:45.703Z",
      request_id: "req-1",
      key: "team-a",
      model: "m",
      served_by: undefined,
      route: "/v1/rerank",
      status: 200,
      latency_ms: 1.5,
      bytes_in: 10,
      bytes_out: 20,
    };
    stdoutAudit(line);
    stdoutAudit({ ...line, request_id: "req-2", error: "upstream_timeout" });
    expect(written).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(written).toHaveLength(1);
    const lines = written[0]!.split("\n");
    expect(lines.at(-1)).toBe("");
    const parsed = lines.slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map((l) => Object.keys(l)[0])).toEqual(["audit", "audit"]);
    expect(parsed[0]).toEqual({ audit: "retrieval-gateway", ...line, served_by: undefined });
    expect(parsed[0]).not.toHaveProperty("served_by");
    expect(parsed[1]).toMatchObject({ request_id: "req-2", error: "upstream_timeout" });
  });
});
