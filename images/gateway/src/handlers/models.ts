import type { RuntimeConfig, RuntimeModel } from "../../../../components/gateway/runtime-config";
import type { ModelRoutes } from "../model-routes";

/**
 * GET /v1/models: every deployed model, then every alias (with the model it stands for), of those the caller may
 * call (`visible`, its scope).
 */
export function modelList(
  config: Pick<RuntimeConfig, "models" | "aliases">,
  routes: ModelRoutes,
  visible: ReadonlySet<string>,
) {
  const created = 0;
  const entry = (id: string, m: RuntimeModel, aliasOf?: string) => ({
    id,
    object: "model",
    created,
    owned_by: m.ownedBy,
    task: m.task,
    ...(m.dims ? { dims: m.dims } : {}),
    max_tokens: m.maxTokens,
    ...(aliasOf ? { alias_of: aliasOf } : {}),
  });
  const data = config.models.filter((m) => visible.has(m.name)).map((m) => entry(m.name, m));
  for (const [alias, a] of Object.entries(config.aliases)) {
    if (!visible.has(alias)) continue;
    const first = routes.get(a.targets[0]!.model)?.model;
    if (first)
      data.push(
        entry(
          alias,
          first,
          a.targets
            .filter((t) => t.weight > 0)
            .map((t) => t.model)
            .join(","),
        ),
      );
  }
  return { object: "list", data };
}
