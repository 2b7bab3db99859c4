// GraphQL-shaped error responses for every request the edge rejects, and their log lines.

/** A request the edge rejects: a GraphQL error code, an HTTP status and the reason to log. */
export class Blocked extends Error {
  constructor(code, status, message, reason = message) {
    super(message);
    this.code = code;
    this.status = status;
    this.reason = reason;
  }
}

/** Return the response for a rejected request, shaped like a GraphQL error so clients can parse it. */
export function blockedResponse(blocked, context) {
  console.log(
    JSON.stringify({
      level: "warning",
      event: "request_blocked",
      code: blocked.code,
      status: blocked.status,
      reason: blocked.reason,
      client: context.client,
      request_id: context.requestId,
    }),
  );
  const body = { errors: [{ message: blocked.message, extensions: { code: blocked.code } }] };
  const headers = { "content-type": "application/json", "x-request-id": context.requestId };
  if (blocked.status === 429) {
    headers["retry-after"] = String(blocked.retryAfterS ?? 1);
  }
  return new Response(JSON.stringify(body), { status: blocked.status, headers });
}
