/**
 * One JSON line per request on stdout, for any log pipeline to ship: who (key name), what (model, route,
 * counts, tokens, bytes), how it went (status, latency, error code) and the ids to join with traces. Never a
 * text, a vector or a key.
 */
export interface AuditLine {
  readonly time: string;
  readonly request_id: string;
  readonly traceparent?: string;
  readonly key: string;
  readonly model: string;
  /** The deployed model that answered (differs from `model` for an alias). */
  readonly served_by?: string;
  readonly route: string;
  readonly status: number;
  readonly latency_ms: number;
  readonly input_tokens?: number;
  readonly inputs?: number;
  readonly documents?: number;
  readonly bytes_in: number;
  readonly bytes_out: number;
  readonly upstream?: string;
  readonly attempts?: number;
  readonly cache?: "hit" | "miss";
  readonly error?: string;
}

export type AuditSink = (line: AuditLine) => void;

/**
 * Lines of one event-loop turn are written together (one write instead of one per request: at thousands of
 * requests/s the syscalls cost more than the JSON), and whatever is pending is written before the process exits.
 */
let pending = "";
const PREFIX = '{"audit":"retrieval-gateway",';
const flush = () => {
  if (pending) process.stdout.write(pending);
  pending = "";
};
process.once("exit", flush);

/**
 * The longest audit line written. Every field is bounded where it is set (model names, key names and request ids
 * are checked, routes are the API's), so this only catches a field that was not: such a line is replaced by its
 * ids, status and `truncated: true`, never written long.
 */
const MAX_AUDIT_LINE = 4096;

export const stdoutAudit: AuditSink = (line) => {
  if (!pending) setImmediate(flush);
  // The line's own JSON after a fixed first field (no copy of the line to put "audit" first).
  let json = JSON.stringify(line);
  if (json.length > MAX_AUDIT_LINE)
    json = JSON.stringify({
      time: line.time,
      request_id: line.request_id.slice(0, 128),
      route: line.route.slice(0, 64),
      status: line.status,
      truncated: true,
    });
  pending += `${PREFIX}${json.slice(1)}\n`;
};

/** `new Date().toISOString()`, with the part up to the seconds made once per second (the lines' `time`). */
let isoSecond = -1;
let isoPrefix = "";
export function isoNow(): string {
  const ms = Date.now();
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20); // 2026-12-01T22:19:45.
  }
  const frac = ms - second * 1000;
  return `${isoPrefix}${frac < 10 ? "00" : frac < 100 ? "0" : ""}${frac}Z`;
}
