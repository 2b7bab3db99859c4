// Worker configuration from its bindings (wrangler.toml [vars] and secrets, or Miniflare bindings).

function integer(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === "") {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`invalid ${name}=${JSON.stringify(raw)}: expected a positive integer`);
  }
  return value;
}

function flag(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === "") {
    return fallback;
  }
  if (raw !== "true" && raw !== "false") {
    throw new Error(`invalid ${name}=${JSON.stringify(raw)}: expected true or false`);
  }
  return raw === "true";
}

let cached = null;

/** Return the parsed configuration; bindings do not change within an isolate, so it is parsed once. */
export function loadConfig(env) {
  if (cached !== null && cached.env === env) {
    return cached.config;
  }
  if (!env.ORIGIN_URL) {
    throw new Error("missing ORIGIN_URL binding: set it to the HAProxy address, such as http://127.0.0.1:8080");
  }
  const config = {
    originUrl: env.ORIGIN_URL.replace(/\/+$/, ""),
    development: env.ENVIRONMENT === "development",
    safelist: flag(env, "SAFELIST", false),
    maxBodyBytes: integer(env, "MAX_BODY_BYTES", 65536),
    maxDepth: integer(env, "MAX_DEPTH", 10),
    maxAliases: integer(env, "MAX_ALIASES", 20),
    maxRootFields: integer(env, "MAX_ROOT_FIELDS", 10),
    maxTokens: integer(env, "MAX_TOKENS", 2000),
    rateLimitWindowS: integer(env, "RATE_LIMIT_WINDOW_S", 60),
    rateLimitPerClient: integer(env, "RATE_LIMIT_PER_CLIENT", 600),
    rateLimitPerToken: integer(env, "RATE_LIMIT_PER_TOKEN", 1200),
    jwksUrl: env.JWKS_URL || null,
    jwtIssuer: env.JWT_ISSUER || null,
    // A comma-separated list: the identity provider sets `aud` to the client id, and each client
    // (browser app, CLI) has its own.
    jwtAudiences: env.JWT_AUDIENCE
      ? env.JWT_AUDIENCE.split(",").map((audience) => audience.trim()).filter(Boolean)
      : null,
    purgeSecret: env.PURGE_SECRET || null,
  };
  cached = { env, config };
  return config;
}
