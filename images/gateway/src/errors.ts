/**
 * Every error the gateway answers, in the OpenAI error shape `{error: {message, type, param, code}}` with the
 * status the API documents (docs/gateway.md, "Errors"). Nothing else reaches a caller: no stack trace, no
 * engine body (an engine's HTML error page stays in the gateway's log line).
 */
type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "not_found_error"
  | "rate_limit_error"
  | "upstream_error"
  | "server_error";

export class GatewayError extends Error {
  override readonly name = "GatewayError";
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  body(): { error: { message: string; type: ErrorType; param: string | null; code: string } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null, code = "invalid_request") =>
  new GatewayError(400, "invalid_request_error", code, message, param);

export const unavailable = (message: string, code = "upstream_unavailable", headers: Record<string, string> = {}) =>
  new GatewayError(503, "upstream_error", code, message, null, headers);

/**
 * The model's Service refused the connection while discovery is unavailable: no pod is behind it (scaled to zero,
 * or every pod starting). Not the engine failing: the breaker does not count it, and the request may wait for a
 * pod in the model's wake queue (admission.ts) instead of failing.
 */
export class NoPodBehindService extends GatewayError {
  constructor(model: string) {
    super(503, "upstream_error", "upstream_unavailable", `${model} has no ready replica behind its Service.`);
  }
}

/** Anything unexpected becomes a 500 with a fixed message; the cause goes to stderr, never to the caller. */
export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError(500, "server_error", "internal_error", "The gateway failed to handle the request.");
}

/** Why an engine answer was refused (the `reason` label of retrieval_gateway_upstream_invalid_total). */
type InvalidReason = "not_json" | "shape" | "count" | "dims" | "not_finite" | "index" | "too_large";

/** An engine answer that must not reach the caller: 502, counted by the breaker and per model. */
export class UpstreamInvalid extends GatewayError {
  constructor(
    model: string,
    readonly reason: InvalidReason,
  ) {
    super(
      502,
      "upstream_error",
      "upstream_invalid",
      `${model} returned an invalid answer (${reason}); it was not served.`,
    );
  }
}

/** This instance holds as many request and answer bytes as it may (maxBytesInFlight): try again shortly. */
export const overloaded = () =>
  new GatewayError(503, "server_error", "overloaded", "The gateway is busy; try again shortly.", null, {
    "retry-after": "1",
  });
