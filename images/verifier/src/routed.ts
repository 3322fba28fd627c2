import type { Task } from "../../../components/config/common";
import type { EndpointDialect, HttpDialect } from "../../../components/serving/dialects/types";

/**
 * A dialect seen through an ingress route: the task endpoint answers at `route` (bodies unchanged: the ingress
 * rewrites the path only), nothing else is routed. OpenAI-shaped endpoints keep using the `openai` client when
 * the route ends in /embeddings.
 */
export function routedDialect(dialect: HttpDialect, task: Task, route: string): HttpDialect {
  const moved = <Req, Res>(e: EndpointDialect<Req, Res>): EndpointDialect<Req, Res> => {
    const { openaiBasePath, ...rest } = e;
    const keepOpenai = openaiBasePath !== undefined && route.endsWith("/embeddings");
    return {
      ...rest,
      path: () => route,
      ...(keepOpenai ? { openaiBasePath: route.slice(0, -"/embeddings".length) } : {}),
    };
  };
  return {
    name: `${dialect.name} via ${route}`,
    healthPath: () => route,
    embed: task === "embed" && dialect.embed ? moved(dialect.embed) : undefined,
    rerank: task === "rerank" && dialect.rerank ? moved(dialect.rerank) : undefined,
    rerankHonoursTopN: dialect.rerankHonoursTopN,
  };
}
