// Fixed-window request counters per key (client address or token).
//
// NOTE: the counters live in the isolate's memory. On Cloudflare each data centre (and each
// isolate) counts on its own, so a client spread over many locations gets more than the limit.
// A global limit needs a Durable Object or Cloudflare's rate limiting rules in front.

const windows = new Map();
const SWEEP_ABOVE = 10000;

/** Count one request for ``key``; return the seconds until the window resets when over ``limit``. */
export function overLimit(key, limit, windowS, nowMs = Date.now()) {
  const windowMs = windowS * 1000;
  let entry = windows.get(key);
  if (entry === undefined || nowMs - entry.startMs >= windowMs) {
    entry = { startMs: nowMs, count: 0 };
    windows.set(key, entry);
    if (windows.size > SWEEP_ABOVE) {
      sweep(nowMs, windowMs);
    }
  }
  entry.count += 1;
  if (entry.count <= limit) {
    return null;
  }
  return Math.max(1, Math.ceil((entry.startMs + windowMs - nowMs) / 1000));
}

function sweep(nowMs, windowMs) {
  for (const [key, entry] of windows) {
    if (nowMs - entry.startMs >= windowMs) {
      windows.delete(key);
    }
  }
}
