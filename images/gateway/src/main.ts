/**
 * The gateway image's entry point: reads the runtime config (GATEWAY_CONFIG_FILE, the ConfigMap; key hashes
 * from GATEWAY_KEYS_FILE, the Secret), listens on PORT (default 8080) and METRICS_PORT (default: the config's
 * metricsPort) on every interface, and drains on SIGTERM for the config's drainTimeoutMs.
 */
import * as fs from "node:fs";
import { RuntimeConfigSchema } from "../../../components/gateway/runtime-config";
import { Gateway } from "./server";

function fail(message: string): never {
  process.stderr.write(`retrieval-gateway: ${message}\n`);
  process.exit(2);
}

function readJson(file: string | undefined, what: string): unknown {
  if (!file) fail(`${what} is not set`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    fail(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const raw = readJson(process.env.GATEWAY_CONFIG_FILE, "GATEWAY_CONFIG_FILE") as Record<string, unknown>;
const parsed = RuntimeConfigSchema.safeParse({
  ...raw,
  ...(process.env.REDIS_URL ? { redis: { ...(raw.redis as object), url: process.env.REDIS_URL } } : {}),
  ...(process.env.METRICS_PORT ? { metricsPort: Number(process.env.METRICS_PORT) } : {}),
});
if (!parsed.success)
  fail(`invalid config: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);

// The key file (the mounted Secret) is re-read while the gateway runs: keys change without a restart.
let gateway: Gateway;
try {
  gateway = new Gateway({
    config: parsed.data,
    playgroundDir: process.env.PLAYGROUND_DIR ?? "/app/playground",
    ...(process.env.GATEWAY_KEYS_FILE ? { keysFile: process.env.GATEWAY_KEYS_FILE } : {}),
  });
} catch (e) {
  fail(`GATEWAY_KEYS_FILE: ${e instanceof Error ? e.message : String(e)}`);
}
const port = Number(process.env.PORT ?? "8080");
gateway.listen(port, process.env.HOST ?? "0.0.0.0").then(
  (p) =>
    process.stderr.write(
      `retrieval-gateway listening on :${p} (${parsed.data.models.length} models; metrics on :${gateway.metricsPort})\n`,
    ),
  (e: unknown) => fail(`cannot listen on ${port}: ${e instanceof Error ? e.message : String(e)}`),
);
for (const signal of ["SIGTERM", "SIGINT"] as const)
  process.once(signal, () => {
    process.stderr.write(`retrieval-gateway: ${signal}, draining in-flight requests\n`);
    gateway.shutdown().then(
      (d) => {
        if (d.shadowWaited)
          process.stderr.write(
            `retrieval-gateway: drained ${d.shadowWaited} shadow copies, ${d.shadowCutOff} cut off at the end of the drain\n`,
          );
        process.exit(0);
      },
      () => process.exit(1),
    );
  });
