import type * as http from "node:http";
import type { ByteBudget } from "./byte-budget";
import type { RequestContext } from "./context";
import { badRequest, GatewayError, overloaded } from "./errors";
import { JsonShape } from "./json-shape";

interface BodyLimits {
  /** Largest body (maxBodyBytes): above it, 413 before reading (declared) or as soon as it is crossed. */
  readonly maxBytes: number;
  /** The instance's bytes in flight: the body's bytes are taken from it as they arrive (503 when it is full). */
  readonly budget: ByteBudget;
  readonly maxDepth: number;
  /** Most items of any list in the body (inputs, documents). */
  readonly maxItems: number;
}

/** The JSON nesting our API needs is 3 (`{"documents": [{"text": ...}]}`); anything deeper is refused. */
export const MAX_JSON_DEPTH = 8;

const tooLarge = (max: number) =>
  new GatewayError(413, "invalid_request_error", "request_too_large", `The request body is larger than ${max} bytes.`);

/**
 * Reads a request body and parses it as JSON, refusing early: a declared Content-Length over the limit before
 * anything is read; a body that grows past it, nests too deep or holds too long a list as soon as a chunk shows
 * it. The bytes held are recorded in ctx.held and given back by the server when the request ends.
 */
export function readJsonBody(req: http.IncomingMessage, ctx: RequestContext, limits: BodyLimits): Promise<unknown> {
  const { maxBytes, budget } = limits;
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const shape = new JsonShape(limits.maxDepth, limits.maxItems);
    let size = 0;
    let failed = false;
    const fail = (e: Error) => {
      failed = true;
      reject(e);
    };
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > maxBytes) return fail(tooLarge(maxBytes));
      if (!budget.take(c.length)) return fail(overloaded());
      ctx.held += c.length;
      const bad = shape.feed(c);
      if (bad === "too_deep")
        return fail(badRequest(`The request body nests deeper than ${limits.maxDepth} levels.`, null, "too_deep"));
      if (bad === "too_many_items")
        return fail(
          badRequest(`A list in the request body has more than ${limits.maxItems} items.`, null, "too_many_items"),
        );
      chunks.push(c);
    });
    req.on("error", (e) => fail(e));
    req.on("end", () => {
      if (failed) return;
      ctx.bytesIn = size;
      try {
        resolve(JSON.parse(Buffer.concat(chunks, size).toString("utf8")));
      } catch {
        reject(badRequest("The request body is not valid JSON.", null, "invalid_json"));
      }
    });
  });
}
