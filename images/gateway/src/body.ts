import type * as http from "node:http";
import { badRequest, GatewayError } from "./errors";
import type { RequestContext } from "./context";

/**
 * Reads a request body of at most `max` bytes and parses it as JSON. A declared Content-Length over the limit is
 * refused before anything is read; a body that grows past it is refused as soon as it does (413).
 */
export function readJsonBody(req: http.IncomingMessage, ctx: RequestContext, max: number): Promise<unknown> {
  const tooLarge = () =>
    new GatewayError(
      413,
      "invalid_request_error",
      "request_too_large",
      `The request body is larger than ${max} bytes.`,
    );
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > max) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > max) {
        failed = true;
        reject(tooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on("error", (e) => reject(e));
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
