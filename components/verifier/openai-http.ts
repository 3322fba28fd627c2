import OpenAI from "openai";
import {
  HttpFailure,
  connectionFailure,
  joinUrl,
  readJson,
  retryDelayMs,
  statusMessage,
  type HttpOptions,
  type HttpResult,
} from "./http";

/**
 * OpenAI-shaped embedding calls go through the official `openai` client: it builds the request, retries
 * 408/409/429/5xx and connection errors with exponential backoff and honours Retry-After. Configured here:
 * - maxRetries and the per-attempt timeout from the verifier's options;
 * - a fetch wrapper that (a) reads the whole body inside the attempt, so a server that sends headers and then
 *   stalls still hits the timeout; (b) keeps the error body text, which the client drops for engines whose
 *   error JSON has no `error` field (vLLM: `{"object": "error", "message": ...}`); (c) sets `retry-after-ms`
 *   (which the client obeys) from the verifier's own backoff policy, so Retry-After is honoured up to a cap and
 *   a server asking for an hour cannot stall the run past the deadline; (d) ties every attempt to the deadline;
 * - no Authorization header at all when no API key is set (the client would otherwise require one).
 * The body is parsed by the dialect, like every other call, so errors read the same whatever the transport.
 */
export async function openaiEmbeddingsCall(
  baseUrl: string,
  basePath: string,
  body: Record<string, unknown>,
  options: HttpOptions,
): Promise<HttpResult> {
  const { deadline, requestTimeoutMs, retry } = options;
  const where = `${basePath}/embeddings`;
  const url = joinUrl(baseUrl, where);
  const seen = { attempts: 0, errorText: "", statusText: "" };
  const started = performance.now();

  const fetchWrapper = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    seen.attempts++;
    const signals = [deadline.signal, AbortSignal.timeout(requestTimeoutMs)];
    if (init?.signal) signals.push(init.signal);
    const response = await fetch(input, { ...init, signal: AbortSignal.any(signals) });
    const text = await response.text();
    const headers = new Headers(response.headers);
    if (!response.ok) {
      seen.errorText = text;
      seen.statusText = response.statusText;
      // One backoff policy for both transports: the client obeys `retry-after-ms`, so the wait it takes is ours
      // (the server's Retry-After honoured up to the cap, never past the deadline).
      const wait = retryDelayMs(seen.attempts, retry, headers.get("retry-after"));
      headers.delete("retry-after");
      headers.set("retry-after-ms", String(Math.round(Math.max(0, Math.min(wait, deadline.remainingMs() - 50)))));
    }
    return new Response(text, { status: response.status, statusText: response.statusText, headers });
  };

  const client = new OpenAI({
    baseURL: joinUrl(baseUrl, basePath),
    apiKey: options.apiKey ?? "no-key",
    defaultHeaders: options.apiKey ? {} : { Authorization: null },
    maxRetries: retry.maxRetries,
    timeout: requestTimeoutMs,
    fetch: fetchWrapper,
    logLevel: "off",
  });

  let response: Response;
  try {
    response = await client.embeddings
      .create(body as unknown as OpenAI.EmbeddingCreateParams, { signal: deadline.signal })
      .asResponse();
  } catch (error) {
    throw toFailure(error, url, where, seen, options);
  }
  const text = await response.text();
  return {
    status: response.status,
    body: readJson(text, response.status, seen.attempts, where),
    attempts: seen.attempts,
    ms: performance.now() - started,
  };
}

function toFailure(
  error: unknown,
  url: string,
  where: string,
  seen: { attempts: number; errorText: string; statusText: string },
  options: HttpOptions,
): unknown {
  if (error instanceof OpenAI.APIUserAbortError || options.deadline.signal.aborted) {
    return new HttpFailure(
      "deadline",
      `overall timeout of ${options.deadline.budgetMs} ms reached while calling ${url}`,
      seen.attempts,
    );
  }
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new HttpFailure(
      "timeout",
      `no complete response within ${options.requestTimeoutMs} ms from ${url}`,
      seen.attempts,
    );
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return connectionFailure(error.cause ?? error, url, seen.attempts, options.deadline, options.requestTimeoutMs);
  }
  if (error instanceof OpenAI.APIError && error.status !== undefined) {
    return new HttpFailure(
      "status",
      statusMessage(error.status, seen.statusText, seen.errorText, where),
      seen.attempts,
      error.status,
    );
  }
  return error;
}
