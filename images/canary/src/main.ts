/**
 * Entry point of the quality canary (images/verifier, second bundled entry: canary.js): reads the ConfigMap,
 * serves /metrics and /healthz, runs every model's checks at once and then every interval ± jitter, until
 * SIGTERM. The API key comes from CANARY_API_KEY; its gateway key name is `canary`, so usage reports and quotas
 * can tell its calls apart.
 */
import { readFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import {
  CANARY_CONFIG_DIR,
  CANARY_CONFIG_KEY,
  CanaryConfigSchema,
  type CanaryConfig,
} from "../../../components/contracts/canary";
import { Registry } from "./metrics";
import { parseUserSet, type LabelledSet } from "./quality";
import { nextDelayMs, runAll } from "./run";

export interface Canary {
  readonly port: number;
  readonly registry: Registry;
  /** Resolves after the current run (if any) ends; the server is closed. */
  stop(): Promise<void>;
}

/** Starts the server and the schedule. Throws when the config or the user set cannot be read. */
export async function startCanary(
  config: CanaryConfig,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<Canary> {
  const userSet: LabelledSet | undefined = config.userSetFile
    ? parseUserSet(readFileSync(config.userSetFile, "utf8"))
    : undefined;
  const registry = new Registry();
  const server = http.createServer((req, res) => {
    if (req.url === "/metrics")
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(registry.expose());
    else if (req.url === "/healthz") res.writeHead(200).end("ok\n");
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === "EADDRINUSE"
            ? `cannot serve /metrics on ${config.host}:${config.port}: the port is already in use (another process listens there). Fix: stop it, or set the canary's port to a free one`
            : `cannot serve /metrics on ${config.host}:${config.port}: ${error.code ?? error.message}`,
        ),
      ),
    );
    server.listen(config.port, config.host, resolve);
  });
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const loop = () => {
    running = runAll(config, registry, { apiKey: env.CANARY_API_KEY, userSet, log }).finally(() => {
      if (!stopped) timer = setTimeout(loop, nextDelayMs(config));
    });
  };
  loop();
  return {
    port: (server.address() as AddressInfo).port,
    registry,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (require.main === module) {
  const file = process.env.CANARY_CONFIG_FILE ?? `${CANARY_CONFIG_DIR}/${CANARY_CONFIG_KEY}`;
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  let config: CanaryConfig;
  try {
    config = CanaryConfigSchema.parse(JSON.parse(readFileSync(file, "utf8")));
  } catch (error) {
    log(`canary config ${file} unreadable: ${(error as Error).message}`);
    process.exit(2);
  }
  startCanary(config, process.env, log).then(
    (c) => {
      log(
        `canary serving /metrics on ${config.host}:${c.port}; ${config.targets.length} model(s) every ${config.intervalSeconds} s`,
      );
      process.once("SIGTERM", () => void c.stop().then(() => process.exit(0)));
    },
    (error: unknown) => {
      log(`canary failed to start: ${(error as Error).message}`);
      process.exit(2);
    },
  );
}
