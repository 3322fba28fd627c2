// `npm run gateway -- --stack <name|file> [--upstream <model>=<url>]... [--api-key <key>]... [--port N]
//  [--redis <url>] [--host <addr>]`: the retrieval gateway on this machine, for that stack's models
// (docs/gateway.md, "Run it locally"). Upstream overrides point a model at any server (a port-forward, a fake);
// a model given twice gets two replicas. Keys given here are hashed at once and named cli-1, cli-2, ...
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { CONFIG_NAMESPACE, ConfigError, playgroundEnabled } from "../components/config";
import { parsePlatformConfig } from "../components/validation/parse";
import { gatewayRuntimeConfig } from "../components/gateway/runtime-config-from-stack";
import { MODELS_NAMESPACE } from "../components/k8s/namespaces";
import { readStackFile } from "../plan/stack-file";
import { sha256Hex } from "../images/gateway/src/auth";
import { Gateway } from "../images/gateway/src/server";

const ROOT = path.resolve(__dirname, "..");
const stacks = () =>
  fs
    .readdirSync(path.join(ROOT, "stacks"))
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => !!s);
const USAGE = `usage: npm run gateway -- --stack <${stacks().join("|")}|path/to/Pulumi.<s>.yaml> [--upstream <model>=<url>]... [--api-key <key>]... [--named-key <name>=<key>]... [--port N] [--redis redis://host:port] [--host 127.0.0.1] [--metrics-port N (default: any free port)]`;

function usage(message: string): never {
  process.stderr.write(`gateway: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function args() {
  try {
    return parseArgs({
      options: {
        stack: { type: "string" },
        upstream: { type: "string", multiple: true, default: [] },
        "api-key": { type: "string", multiple: true, default: [] },
        // A key under a name of the stack's own callers (e.g. the quality canary's "canary"), as the Gateway
        // component's namedKeys give it; stack files may not use those names for customers' keys.
        "named-key": { type: "string", multiple: true, default: [] },
        port: { type: "string", default: "8080" },
        host: { type: "string", default: "127.0.0.1" },
        redis: { type: "string" },
        "metrics-port": { type: "string", default: "0" },
        help: { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    usage(e instanceof Error ? e.message : String(e));
  }
}

function main(): void {
  const v = args();
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (!v.stack) usage("--stack is required");
  const file = v.stack.endsWith(".yaml") ? path.resolve(v.stack) : path.join(ROOT, "stacks", `Pulumi.${v.stack}.yaml`);
  if (!fs.existsSync(file)) usage(`no stack file ${path.relative(process.cwd(), file)}`);
  const port = Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be a port number, got ${v.port}`);
  const metricsPort = Number(v["metrics-port"]);
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535)
    usage(`--metrics-port must be a port number, got ${v["metrics-port"]}`);

  const upstreams: Record<string, string[]> = {};
  for (const u of v.upstream) {
    const m = /^([a-z][-a-z0-9]*)=(https?:\/\/\S+)$/.exec(u);
    if (!m) usage(`--upstream must be <model>=<http(s) URL>, got ${JSON.stringify(u)}`);
    (upstreams[m[1]!] ??= []).push(m[2]!.replace(/\/+$/, ""));
  }
  for (const k of v["api-key"]) if (k.length < 16) usage("--api-key must be at least 16 characters");
  const namedKeys = v["named-key"].map((nk) => {
    const m = /^([a-z][-a-z0-9]*)=(\S{16,})$/.exec(nk);
    if (!m) usage("--named-key must be <name>=<key>, the key at least 16 characters");
    return { name: m[1]!, sha256: sha256Hex(m[2]!) };
  });
  if (v.redis && !/^rediss?:\/\/\S+$/.test(v.redis)) usage(`--redis must be a redis:// URL, got ${v.redis}`);

  const stackFile = readStackFile(file);
  const raw: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(stackFile.config))
    if (k.startsWith(`${CONFIG_NAMESPACE}:`)) raw[k.slice(CONFIG_NAMESPACE.length + 1)] = value;
  let config;
  try {
    config = parsePlatformConfig(raw, {
      secretKeys: new Set(stackFile.secretKeys.map((k) => k.slice(CONFIG_NAMESPACE.length + 1))),
      source: path.relative(process.cwd(), file),
    });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const unknown = Object.keys(upstreams).filter((m) => !config.models.some((x) => x.name === m));
  if (unknown.length)
    usage(
      `--upstream names ${unknown.join(", ")}, not a model of the stack (${config.models.map((m) => m.name).join(", ")})`,
    );

  const runtime = gatewayRuntimeConfig(config, MODELS_NAMESPACE, {
    upstreams,
    extraKeys: [...v["api-key"].map((k, i) => ({ name: `cli-${i + 1}`, sha256: sha256Hex(k) })), ...namedKeys],
    ...(v.redis ? { redisUrl: v.redis } : {}),
    playground: playgroundEnabled(config.gateway, config.environment),
  });
  const gateway = new Gateway({
    config: { ...runtime, metricsPort },
    playgroundDir: path.join(ROOT, "images/gateway/playground"),
  });
  gateway.listen(port, v.host).then(
    (p) => {
      process.stderr.write(
        `gateway for stack ${path.basename(file)} listening on http://${v.host}:${p} (models: ${runtime.models.map((m) => m.name).join(", ")}; limits in ${runtime.redis.url ? "Redis" : "memory"}; metrics on http://${v.host}:${gateway.metricsPort}/metrics)\n`,
      );
    },
    (e: unknown) => {
      process.stderr.write(
        `gateway: cannot listen on ${v.host}:${port}: ${e instanceof Error ? e.message : String(e)}\n`,
      );
      process.exit(1);
    },
  );
  for (const signal of ["SIGTERM", "SIGINT"] as const)
    process.once(signal, () => {
      process.stderr.write(`gateway: ${signal}, draining in-flight requests\n`);
      gateway.shutdown().then(
        (d) => {
          if (d.shadowWaited)
            process.stderr.write(
              `gateway: drained ${d.shadowWaited} shadow copies, ${d.shadowCutOff} cut off at the end of the drain\n`,
            );
          process.exit(0);
        },
        () => process.exit(1),
      );
    });
}

main();
