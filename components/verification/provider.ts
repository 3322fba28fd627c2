import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import type { LocalVerificationInputs } from "../contracts/stack-outputs";

/**
 * The local mode's dynamic provider. Pulumi serialises these functions into the dynamic-provider host, so they
 * capture nothing but a module path: the verification code is loaded from disk when they run (closure
 * serialisation of the whole library would be slow and brittle). Running from TypeScript sources (the project's
 * own `pulumi up`), the host has no TypeScript loader: tsx (a dev dependency) is registered first.
 */
const RUNNER_MODULE = path.join(
  __dirname,
  "../../images/verifier/src",
  `run-local${path.extname(__filename) || ".js"}`,
);

export const localVerificationProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: LocalVerificationInputs, news: LocalVerificationInputs) {
    return { inputs: news };
  },

  async diff(_id: string, olds: LocalVerificationInputs, news: LocalVerificationInputs) {
    // Re-run only when what is verified changed (a model, an engine, the options), not on every `pulumi up`.
    // An alias' weights or target changing is a possible promotion: the gate runs (components/fingerprint/promotion.ts).
    const aliases = (x: LocalVerificationInputs) => JSON.stringify(x.promotion?.aliases ?? {});
    const changes = olds.targetsHash !== news.targetsHash || aliases(olds) !== aliases(news);
    return { changes, replaces: [], deleteBeforeReplace: false };
  },

  async create(inputs: LocalVerificationInputs) {
    if (RUNNER_MODULE.endsWith(".ts")) require("tsx/cjs/api").register();
    const runner = require(RUNNER_MODULE) as typeof import("../../images/verifier/src/run-local");
    const result = await runner.runLocalVerification(inputs);
    return {
      id: `verification-${inputs.targetsHash}`,
      outs: {
        targetsHash: inputs.targetsHash,
        summary: result.summary,
        fingerprints: result.fingerprints,
        ...(inputs.promotion ? { promotion: inputs.promotion } : {}),
      },
    };
  },

  async update(
    _id: string,
    olds: LocalVerificationInputs & { fingerprints?: Record<string, unknown> },
    news: LocalVerificationInputs,
  ) {
    if (RUNNER_MODULE.endsWith(".ts")) require("tsx/cjs/api").register();
    const runner = require(RUNNER_MODULE) as typeof import("../../images/verifier/src/run-local");
    // The record lives in this resource's state: each model's last kept fingerprint is what this run compares
    // with. A failed run throws, so the state (and the record) stays as it was.
    // Promotions first: a raised weight without evidence fails before anything else runs.
    await runner.runPromotionGate(olds.promotion, news.promotion);
    const recorded = olds.fingerprints ?? {};
    const result = await runner.runLocalVerification(news, undefined, recorded);
    return {
      outs: {
        targetsHash: news.targetsHash,
        summary: result.summary,
        fingerprints: { ...recorded, ...result.fingerprints },
        ...(news.promotion ? { promotion: news.promotion } : {}),
      },
    };
  },

  async delete() {
    // Nothing to undo: verification leaves nothing behind.
  },
};
