// Read a GraphQL request from GET parameters or a JSON POST body, within the size limit.

import { Blocked } from "./errors.js";

function parseJsonParameter(url, name) {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === "") {
    return undefined;
  }
  try {
    return JSON.parse(raw);
  } catch {
    throw new Blocked("BAD_REQUEST", 400, `The ${name} parameter is not valid JSON.`);
  }
}

async function readBody(request, config) {
  const contentType = request.headers.get("content-type") ?? "";
  // The router's CSRF protection relies on JSON POSTs needing a CORS preflight. The edge forwards
  // every request as JSON, so it has to reject the other content types itself.
  if (!/^application\/json\b/i.test(contentType)) {
    throw new Blocked(
      "UNSUPPORTED_MEDIA_TYPE",
      415,
      `POST requests must send content-type application/json, not ${JSON.stringify(contentType)}.`,
    );
  }
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > config.maxBodyBytes) {
    throw tooLarge(declared, config);
  }
  const body = await request.arrayBuffer();
  if (body.byteLength > config.maxBodyBytes) {
    throw tooLarge(body.byteLength, config);
  }
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new Blocked("BAD_REQUEST", 400, "The request body is not valid JSON.");
  }
}

function tooLarge(size, config) {
  return new Blocked("BODY_TOO_LARGE", 413, `The request body has ${size} bytes; the limit is ${config.maxBodyBytes}.`);
}

/**
 * Return {query, operationName, variables, extensions, persistedId} of one GraphQL request.
 * A persisted operation is named by `id` or by extensions.persistedQuery.sha256Hash.
 */
export async function readOperation(request, url, config) {
  let payload;
  if (request.method === "GET") {
    if (url.search.length > config.maxBodyBytes) {
      throw new Blocked("BODY_TOO_LARGE", 413, `The query string is longer than ${config.maxBodyBytes} bytes.`);
    }
    payload = {
      id: url.searchParams.get("id") ?? undefined,
      query: url.searchParams.get("query") ?? undefined,
      operationName: url.searchParams.get("operationName") ?? undefined,
      variables: parseJsonParameter(url, "variables"),
      extensions: parseJsonParameter(url, "extensions"),
    };
  } else if (request.method === "POST") {
    payload = await readBody(request, config);
  } else {
    throw new Blocked("METHOD_NOT_ALLOWED", 405, `Method ${request.method} is not allowed; use GET or POST.`);
  }

  if (Array.isArray(payload)) {
    // Apollo Router only accepts batches with a GraphOS licence, so the edge rejects them all.
    throw new Blocked("BATCHING_NOT_ALLOWED", 400, `Batched requests (${payload.length} operations) are not accepted.`);
  }
  if (payload === null || typeof payload !== "object") {
    throw new Blocked("BAD_REQUEST", 400, "The request body must be a JSON object.");
  }
  const variables = payload.variables ?? {};
  if (typeof variables !== "object" || Array.isArray(variables)) {
    throw new Blocked("BAD_REQUEST", 400, "variables must be a JSON object.");
  }
  return {
    query: typeof payload.query === "string" ? payload.query : null,
    operationName: typeof payload.operationName === "string" ? payload.operationName : null,
    variables,
    persistedId: payload.id ?? payload.extensions?.persistedQuery?.sha256Hash ?? null,
  };
}
