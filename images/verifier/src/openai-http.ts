import { HttpFailure, connectionFailure, joinUrl, redirectFailure, statusMessage, type HttpOptions } from "./http";
import { header, type Transport } from "./transport";

/**
 * One embeddings call through the official `openai` client exactly as an application makes it: no
 * `encoding_format`, so the client asks for base64 and decodes little-endian float32 itself (a server that
 * answers floats to that request gives the client vectors of the wrong length). The client's transport is the
 * verifier's own (its `fetch` option): the same pool, per-attempt timer, body cap and no redirects. One attempt
 * (maxRetries 0): the earlier checks already proved retries; this one proves the shape the client reads.
 */
/**
 * Whether the optional `openai` package is installed. The library does not force it on its users (20 MB that only
 * this check needs): the verifier's image bundles it, a checkout has it as a dev dependency, and an installed
 * package's user adds it (`npm install openai`) to run the check; without it the check is reported as skipped.
 */
export async function openaiInstalled(): Promise<boolean> {
  try {
    await import("openai");
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === "MODULE_NOT_FOUND") return false;
    throw error;
  }
}

export async function officialClientEmbeddings(
  baseUrl: string,
  basePath: string,
  request: { model: string; input: string[]; dimensions?: number },
  http: HttpOptions & { transport: Transport },
): Promise<number[][]> {
  // Loaded on first use only: importing the library never loads (or needs) the openai package.
  const { default: OpenAI } = await import("openai");
  const { deadline, requestTimeoutMs, transport } = http;
  const where = `${basePath}/embeddings`;
  const url = joinUrl(baseUrl, where);
  let failure: HttpFailure | undefined;
  let errorText = "";
  let statusText = "";

  const viaTransport = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const target = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    try {
      const r = await transport.send(target, {
        method: (init?.method ?? "GET") === "POST" ? "POST" : "GET",
        headers: { ...headers, "accept-encoding": "identity" },
        body: typeof init?.body === "string" ? init.body : undefined,
        timeoutMs: requestTimeoutMs,
        abortOn: deadline.signal,
      });
      if (r.status >= 300 && r.status < 400) {
        failure = redirectFailure(r.status, r.statusText, header(r.headers, "location"), where, 1);
        throw failure;
      }
      if (r.status >= 400) [errorText, statusText] = [r.text, r.statusText];
      const out = new Headers();
      for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) out.set(k, Array.isArray(v) ? v[0]! : v);
      return new Response(r.text, { status: r.status, statusText: r.statusText, headers: out });
    } catch (error) {
      failure ??= connectionFailure(error, url, 1, deadline, requestTimeoutMs);
      throw failure;
    }
  };

  const client = new OpenAI({
    baseURL: joinUrl(baseUrl, basePath),
    apiKey: http.apiKey ?? "no-key",
    // No Authorization header at all when no key is set (the client would otherwise require one).
    defaultHeaders: http.apiKey ? {} : { Authorization: null },
    maxRetries: 0,
    // Our own timer ends the attempt first; this only backs it up.
    timeout: requestTimeoutMs + 1000,
    fetch: viaTransport,
    logLevel: "off",
  });
  try {
    const res = await client.embeddings.create({
      model: request.model,
      input: request.input,
      dimensions: request.dimensions,
    });
    return res.data
      .slice()
      .sort((a, b) => a.index - b.index)
      .map((d) => Array.from(d.embedding as unknown as ArrayLike<number>));
  } catch (error) {
    if (failure) throw failure;
    if (error instanceof OpenAI.APIError && error.status !== undefined)
      throw new HttpFailure("status", statusMessage(error.status, statusText, errorText, where), 1, error.status);
    throw error;
  }
}
