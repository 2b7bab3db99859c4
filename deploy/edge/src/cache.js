// Shared-cache keys for persisted queries, and their purge.
//
// A purge cannot list the entries of the Cache API, so every key carries a generation number and
// a purge moves the generation on: old entries are never matched again and expire on their own.
// NOTE: generations live in the isolate's memory, so a purge reaches only the isolate that
// receives it. On Cloudflare, purge by the Cache-Tag header of the stored responses through
// Cloudflare's purge API as well.

let allGeneration = 0;
const operationGenerations = new Map();

const encoder = new TextEncoder();

export async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

// Object keys are sorted, so {"a":1,"b":2} and {"b":2,"a":1} share one cache entry.
function canonicalJson(value) {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Return the cache key of a persisted operation with its variables, under the edge's own origin. */
export async function cacheKey(origin, id, operation) {
  const variables = await sha256Hex(`${operation.operationName ?? ""}\n${canonicalJson(operation.variables ?? {})}`);
  const generation = `${allGeneration}.${operationGenerations.get(id) ?? 0}`;
  return new Request(`${origin}/__edge/cache/persisted/${id}/${generation}/${variables}`);
}

/** Invalidate the cached responses of the given operation ids, or of all operations. */
export function purge(ids) {
  if (ids === null) {
    allGeneration += 1;
    return;
  }
  for (const id of ids) {
    operationGenerations.set(id, (operationGenerations.get(id) ?? 0) + 1);
  }
}

/** Compare two secrets in time that does not depend on where they differ. */
export async function secretsEqual(received, expected) {
  const [left, right] = await Promise.all([sha256Hex(received), sha256Hex(expected)]);
  let difference = 0;
  for (let index = 0; index < left.length; index += 1) {
    difference |= left.charCodeAt(index) ^ right.charCodeAt(index);
  }
  return difference === 0;
}
