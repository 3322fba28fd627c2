import type { CheckContext } from "./context";
import { runCheck, skipped } from "./context";
import type { CheckResult } from "../report";

/** The engine's own health endpoint, and (where the dialect lists models) that our model name is served. */
export async function healthChecks(ctx: CheckContext): Promise<{ results: CheckResult[]; healthy: boolean }> {
  const { client, target } = ctx;
  if (target.route) {
    const because = `only ${target.route} is routed to the engine; the task calls below prove it answers`;
    return { results: [skipped(ctx, "health", "the engine's health endpoint", because)], healthy: true };
  }
  const path = client.dialect.healthPath(target.servedModel);
  const health = await runCheck(
    ctx,
    "health",
    `HTTP 200 from GET ${path}${client.dialect.parseHealth ? ` reporting "${target.servedModel}" ready` : ""}`,
    async () => {
      const res = await client.health();
      return { pass: true, got: res.value };
    },
  );
  const results = [health];
  if (health.status !== "pass") return { results, healthy: false };
  if (client.dialect.models) {
    const listPath = client.dialect.models.path(target.servedModel);
    results.push(
      await runCheck(ctx, "model.served", `"${target.servedModel}" among the models at GET ${listPath}`, async () => {
        const served = (await client.servedModels())!.value;
        return {
          pass: served.includes(target.servedModel),
          got: served.length
            ? `[${served.slice(0, 5).join(", ")}${served.length > 5 ? `, ... ${served.length - 5} more` : ""}]`
            : "no models",
        };
      }),
    );
  }
  return { results, healthy: true };
}
