import * as fs from "node:fs";
import { createHash } from "node:crypto";
import { z } from "zod";
import { RuntimeKeySchema, type RuntimeKey } from "../../../components/gateway/runtime-config";

/**
 * The key set from a mounted Secret (GATEWAY_KEYS_FILE), re-read while the gateway runs: kubelet refreshes a
 * mounted Secret within its sync period plus the cache's TTL (about a minute by default) by swapping a symlink,
 * which file watches miss, so the file is read every `pollMs` and compared by hash. A new set replaces the old at
 * once (a revoked key is refused on its next request); a malformed one is refused and the last good set stays.
 */
const KeyFileSchema = z.array(RuntimeKeySchema).superRefine((keys, ctx) => {
  const seen = new Set<string>();
  for (const [i, k] of keys.entries()) {
    if (seen.has(k.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate key name ${k.name}` });
    seen.add(k.name);
  }
});

interface KeyFileEvents {
  /** A new, valid key set (also the first read). */
  onKeys(keys: RuntimeKey[]): void;
  /** The file changed but cannot be used: why (the last good set stays in force). */
  onRejected(reason: string): void;
}

/** Reads and validates a key file; a reason instead of keys when it cannot be used. */
function readKeyFile(file: string): { keys: RuntimeKey[]; text: string } | { reason: string; text?: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    return { reason: `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { reason: `${file} is not valid JSON`, text };
  }
  const parsed = KeyFileSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    return { reason: `${file}: ${i.path.join(".") || "(root)"}: ${i.message}`, text };
  }
  return { keys: parsed.data, text };
}

export class KeyFileWatcher {
  private lastHash: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly events: KeyFileEvents,
    private readonly pollMs = 5000,
  ) {}

  /** First read (throws when the file is unusable at start: a gateway must not start without its keys). */
  start(): RuntimeKey[] {
    const first = readKeyFile(this.file);
    if ("reason" in first) throw new Error(first.reason);
    this.lastHash = hash(first.text);
    this.timer = setInterval(() => this.check(), this.pollMs);
    this.timer.unref();
    return first.keys;
  }

  /** One poll: a changed file is applied or rejected (exposed for tests and a SIGHUP). */
  check(): void {
    const r = readKeyFile(this.file);
    const h = r.text === undefined ? undefined : hash(r.text);
    if (h !== undefined && h === this.lastHash) return;
    // A rejected text is remembered too, so that it is reported once, not on every poll.
    if (h !== undefined) this.lastHash = h;
    if ("reason" in r) this.events.onRejected(r.reason);
    else this.events.onKeys(r.keys);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

const hash = (text: string) => createHash("sha256").update(text).digest("hex");
