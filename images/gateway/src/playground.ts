import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Static files of the playground page (images/gateway/playground/, built by the playground work). Served only
 * when enabled and when the directory holds an index.html: otherwise /playground is a plain 404, never a stand-in.
 */
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".png": "image/png",
};

interface StaticFile {
  readonly body: Buffer;
  readonly type: string;
}

export function playgroundFile(dir: string | undefined, urlPath: string): StaticFile | undefined {
  if (!dir) return undefined;
  const rel = urlPath.replace(/^\/playground\/?/, "") || "index.html";
  const file = path.resolve(dir, rel);
  if (!file.startsWith(path.resolve(dir) + path.sep)) return undefined;
  try {
    if (!fs.statSync(path.join(dir, "index.html")).isFile() || !fs.statSync(file).isFile()) return undefined;
    return { body: fs.readFileSync(file), type: TYPES[path.extname(file)] ?? "application/octet-stream" };
  } catch {
    return undefined;
  }
}
