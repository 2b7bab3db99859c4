// Labs64 edge Worker: a WAF and a CDN cache for persisted queries, in front of HAProxy.

import manifest from "../operations/manifest.json";
import { cacheKey, purge, secretsEqual, sha256Hex } from "./cache.js";
import { loadConfig } from "./config.js";
import { Blocked, blockedResponse } from "./errors.js";
import { verifyToken } from "./jwt.js";
import { overLimit } from "./ratelimit.js";
import { readOperation } from "./request.js";
import { checkDocument, checkVariables, parseDocument } from "./waf.js";

// Clients must not choose our trace ids or sampling decisions, so their tracing headers (W3C
// Trace Context, B3, Jaeger, Datadog, AWS, Google, Sentry) never reach the origin.
const TRACING_HEADERS = new Set([
  "traceparent",
  "tracestate",
  "baggage",
  "b3",
  "uber-trace-id",
  "x-cloud-trace-context",
  "x-amzn-trace-id",
  "sentry-trace",
  "x-datadog-trace-id",
  "x-datadog-parent-id",
  "x-datadog-sampling-priority",
  "x-datadog-origin",
]);
const TRACING_PREFIXES = ["x-b3-", "uberctx-", "ot-baggage-", "ot-tracer-"];
// Hop-by-hop and edge-owned headers: the edge sets its own forwarding and request id headers.
const DROPPED_HEADERS = new Set([
  "host",
  "content-length",
  "accept-encoding",
  "connection",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-real-ip",
  "x-request-id",
]);

export function isForwardedHeader(name) {
  const lower = name.toLowerCase();
  if (TRACING_HEADERS.has(lower) || DROPPED_HEADERS.has(lower) || lower.startsWith("cf-")) {
    return false;
  }
  return !TRACING_PREFIXES.some((prefix) => lower.startsWith(prefix));
}

export default {
  async fetch(request, env, ctx) {
    const config = loadConfig(env);
    const url = new URL(request.url);
    // On Cloudflare, CF-Connecting-IP is set by the edge itself and cannot be forged by clients.
    const context = { client: request.headers.get("cf-connecting-ip") ?? "unknown", requestId: crypto.randomUUID() };
    try {
      if (url.pathname === "/__edge/health") {
        return new Response("ok\n");
      }
      if (url.pathname === "/__edge/purge") {
        return await handlePurge(request, config);
      }
      limitRate(`client:${context.client}`, config.rateLimitPerClient, config);
      if (url.pathname.startsWith("/live")) {
        return await fetch(new Request(`${config.originUrl}${url.pathname}${url.search}`, request));
      }
      return await handleGraphQL(request, url, config, context);
    } catch (error) {
      if (error instanceof Blocked) {
        return blockedResponse(error, context);
      }
      throw error;
    }
  },
};

function limitRate(key, limit, config) {
  const retryAfterS = overLimit(key, limit, config.rateLimitWindowS);
  if (retryAfterS !== null) {
    const blocked = new Blocked("RATE_LIMITED", 429, "Too many requests; retry later.", `rate limit of ${key} exceeded`);
    blocked.retryAfterS = retryAfterS;
    throw blocked;
  }
}

async function checkAuthorization(authorization, config) {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization);
  if (match === null) {
    throw new Blocked("INVALID_TOKEN", 401, "The Authorization header must be `Bearer <token>`.", "not a bearer token");
  }
  const token = match[1];
  if (config.jwksUrl !== null) {
    await verifyToken(token, config);
  }
  // NOTE: without JWKS_URL tokens pass unverified; the subgraphs still verify them.
  limitRate(`token:${await sha256Hex(token)}`, config.rateLimitPerToken, config);
}

async function handleGraphQL(request, url, config, context) {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    await checkAuthorization(authorization, config);
  }

  const operation = await readOperation(request, url, config);
  let persisted = null;
  if (operation.persistedId !== null) {
    persisted = manifest.operations[operation.persistedId];
    if (persisted === undefined) {
      throw new Blocked("PERSISTED_QUERY_NOT_FOUND", 404, `No persisted operation has id ${operation.persistedId}.`);
    }
    operation.query = persisted.document;
    operation.operationName ??= persisted.name;
  } else if (config.safelist) {
    throw new Blocked("OPERATION_NOT_SAFELISTED", 403, "Only persisted operations are accepted; send the operation's id.");
  } else if (operation.query === null) {
    throw new Blocked("BAD_REQUEST", 400, "The request has neither a query nor a persisted operation id.");
  }

  // Persisted operations come from our own manifest and skip the document checks.
  if (persisted === null) {
    const document = parseDocument(operation.query, config);
    checkDocument(document, config);
    if (request.method === "GET" && document.definitions.some((d) => d.operation && d.operation !== "query")) {
      throw new Blocked("METHOD_NOT_ALLOWED", 405, "Mutations must be sent with POST.");
    }
  } else if (request.method === "GET" && persisted.type !== "query") {
    throw new Blocked("METHOD_NOT_ALLOWED", 405, "Mutations must be sent with POST.");
  }
  checkVariables(operation.variables);

  const cacheable = request.method === "GET" && persisted !== null && persisted.cacheSeconds > 0;
  if (!cacheable || authorization !== null) {
    const response = await forward(request, operation, config, context);
    return respond(response, "BYPASS", authorization !== null ? "private, no-store" : null);
  }
  return await cachedResponse(request, url, operation, persisted, config, context);
}

async function cachedResponse(request, url, operation, persisted, config, context) {
  const cache = caches.default;
  const key = await cacheKey(url.origin, operation.persistedId, operation);
  const hit = await cache.match(key);
  if (hit !== undefined) {
    const response = new Response(hit.body, hit);
    // A downstream cache must not keep the copy longer than this edge would, so the response
    // carries its age and its remaining lifetime.
    const storedAtMs = Number(hit.headers.get("x-labs64-stored-at"));
    const ageS = Number.isFinite(storedAtMs) && storedAtMs > 0 ? Math.max(0, Math.floor((Date.now() - storedAtMs) / 1000)) : 0;
    response.headers.delete("x-labs64-stored-at");
    response.headers.set("age", String(ageS));
    response.headers.set("cache-control", `public, max-age=${Math.max(0, persisted.cacheSeconds - ageS)}`);
    response.headers.set("x-labs64-cache", "HIT");
    response.headers.set("x-request-id", context.requestId);
    return response;
  }

  const origin = await forward(request, operation, config, context);
  const text = await origin.text();
  const cacheControl = `public, max-age=${persisted.cacheSeconds}`;
  // Only complete responses are shared, because a response with errors may be a passing failure.
  if (origin.status === 200 && !hasErrors(text)) {
    const stored = new Response(text, {
      headers: {
        "content-type": origin.headers.get("content-type") ?? "application/json",
        "cache-control": cacheControl,
        "cache-tag": `persisted-${persisted.name}`,
        "x-labs64-stored-at": String(Date.now()),
      },
    });
    await cache.put(key, stored);
  }
  return respond(new Response(text, origin), "MISS", origin.status === 200 ? cacheControl : "no-store");
}

function hasErrors(text) {
  try {
    const body = JSON.parse(text);
    return Array.isArray(body.errors) && body.errors.length > 0;
  } catch {
    return true;
  }
}

function respond(origin, cacheStatus, cacheControl) {
  const response = new Response(origin.body, origin);
  response.headers.set("x-labs64-cache", cacheStatus);
  if (cacheControl !== null) {
    response.headers.set("cache-control", cacheControl);
  }
  return response;
}

async function forward(request, operation, config, context) {
  const headers = new Headers();
  for (const [name, value] of request.headers) {
    if (isForwardedHeader(name)) {
      headers.set(name, value);
    }
  }
  headers.set("content-type", "application/json");
  headers.set("x-forwarded-for", context.client);
  const body = { query: operation.query, variables: operation.variables };
  if (operation.operationName !== null) {
    body.operationName = operation.operationName;
  }
  try {
    return await fetch(`${config.originUrl}/`, { method: "POST", headers, body: JSON.stringify(body) });
  } catch (error) {
    throw new Blocked("ORIGIN_UNAVAILABLE", 502, "The GraphQL service is unavailable.", `origin fetch failed: ${error}`);
  }
}

async function handlePurge(request, config) {
  if (config.purgeSecret === null) {
    throw new Blocked("PURGE_DISABLED", 404, "Cache purges are disabled: no PURGE_SECRET is configured.");
  }
  if (request.method !== "POST") {
    throw new Blocked("METHOD_NOT_ALLOWED", 405, "Purge with POST.");
  }
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "");
  if (match === null || !(await secretsEqual(match[1], config.purgeSecret))) {
    throw new Blocked("UNAUTHENTICATED", 401, "The purge secret is missing or wrong.", "purge with a wrong secret");
  }
  let body;
  try {
    body = await request.json();
  } catch {
    throw new Blocked("BAD_REQUEST", 400, 'The purge body must be JSON: {"ids": [...]} or {"all": true}.');
  }
  if (body.all === true) {
    purge(null);
  } else if (Array.isArray(body.ids) && body.ids.every((id) => typeof id === "string")) {
    const unknown = body.ids.filter((id) => manifest.operations[id] === undefined);
    if (unknown.length > 0) {
      throw new Blocked("PERSISTED_QUERY_NOT_FOUND", 404, `Unknown persisted operation ids: ${unknown.join(", ")}.`);
    }
    purge(body.ids);
  } else {
    throw new Blocked("BAD_REQUEST", 400, 'The purge body must be {"ids": [...]} or {"all": true}.');
  }
  console.log(JSON.stringify({ level: "info", event: "cache_purged", ids: body.all === true ? "all" : body.ids }));
  return new Response(JSON.stringify({ purged: body.all === true ? "all" : body.ids }), {
    headers: { "content-type": "application/json" },
  });
}
