import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadPlatformConfig } from "../components/validation";
import { OfflineRuntime } from "../plan/offline";
import { readStackFile } from "../plan/stack-file";

const prodFile = path.join(__dirname, "..", "stacks", "Pulumi.prod.yaml");

describe("loadPlatformConfig, as the program calls it under the Pulumi runtime", () => {
  it("returns typed config and wraps every secret as a secret Output", async () => {
    const { config, secretKeys } = readStackFile(prodFile);
    await OfflineRuntime.start({ stack: "prod", config, secretKeys });
    const loaded = loadPlatformConfig();
    expect(loaded.config.environment).toBe("prod");
    expect(loaded.config.models.map((m) => m.name)).toEqual(["bge-large-zh", "gte-base", "qwen3-reranker"]);
    const apiKeys = loaded.secrets.apiKeys!;
    expect(await (apiKeys as unknown as { isSecret: Promise<boolean> }).isSecret).toBe(true);
  });

  it("refuses a secret stored in plain text before any resource exists", async () => {
    const { config, secretKeys } = readStackFile(prodFile);
    const runtime = await OfflineRuntime.start({
      stack: "prod",
      config,
      secretKeys: secretKeys.filter((k) => k !== "retrieval-stack:apiKeys"),
    });
    expect(() => loadPlatformConfig()).toThrowError(
      /retrieval-stack:apiKeys = "\(plain text, value hidden\)": is a secret but is stored in plain text/,
    );
    await runtime.settle();
    expect(runtime.resources).toHaveLength(0);
  });

  it("throws a pulumi RunError, so `pulumi up` prints the problems without a stack trace", async () => {
    const { config, secretKeys } = readStackFile(prodFile);
    config["retrieval-stack:environment"] = "qa";
    await OfflineRuntime.start({ stack: "prod", config, secretKeys });
    let error: unknown;
    try {
      loadPlatformConfig();
    } catch (e) {
      error = e;
    }
    expect((error as Error).constructor.name).toBe("RunError");
    expect((error as Error).message).toContain("retrieval-stack:environment");
  });

  it("reads every namespace: a misspelt one and aws:region are refused under the runtime too", async () => {
    const { config, secretKeys } = readStackFile(prodFile);
    config["retreival-stack:verification"] = JSON.stringify({ mode: "off" });
    config["aws:region"] = "eu-west-1";
    const runtime = await OfflineRuntime.start({ stack: "prod", config, secretKeys });
    let message = "";
    try {
      loadPlatformConfig();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(
      'retreival-stack:verification = {"mode":"off"}: namespace "retreival-stack" is not this project\'s',
    );
    expect(message).toContain("Fix: rename it to retrieval-stack:verification.");
    expect(message).toContain('aws:region = "eu-west-1": differs from cluster.region (us-east-1)');
    await runtime.settle();
    expect(runtime.resources).toHaveLength(0);
  });
});
