// Bearer token pre-verification against the identity provider's JWKS, with WebCrypto.

import { Blocked } from "./errors.js";

const ALGORITHMS = {
  RS256: {
    kty: "RSA",
    importParams: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    verifyParams: { name: "RSASSA-PKCS1-v1_5" },
  },
  // JWS carries ECDSA signatures as r || s, the raw form WebCrypto verifies.
  ES256: {
    kty: "EC",
    importParams: { name: "ECDSA", namedCurve: "P-256" },
    verifyParams: { name: "ECDSA", hash: "SHA-256" },
  },
};
const JWKS_MAX_AGE_MS = 5 * 60 * 1000;
// An unknown key id triggers a refetch (the provider may have rotated keys), at most this often.
const JWKS_REFETCH_MS = 10 * 1000;
const CLOCK_SKEW_S = 30;

let jwks = { url: null, keys: [], fetchedAtMs: 0 };

function invalid(reason) {
  return new Blocked("INVALID_TOKEN", 401, `The bearer token is invalid: ${reason}.`, `invalid token: ${reason}`);
}

function decodeBase64Url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  const binary = atob(base64);
  return Uint8Array.from(binary, (character) => character.charCodeAt(0));
}

function decodeJson(part, name) {
  try {
    return JSON.parse(new TextDecoder().decode(decodeBase64Url(part)));
  } catch {
    throw invalid(`its ${name} is not base64url-encoded JSON`);
  }
}

async function fetchKeys(url) {
  let response;
  try {
    response = await fetch(url, { headers: { accept: "application/json" } });
  } catch (error) {
    throw new Blocked("JWKS_UNAVAILABLE", 503, "Tokens cannot be verified right now.", `JWKS fetch from ${url} failed: ${error}`);
  }
  if (!response.ok) {
    throw new Blocked("JWKS_UNAVAILABLE", 503, "Tokens cannot be verified right now.", `JWKS ${url} returned HTTP ${response.status}`);
  }
  const document = await response.json();
  jwks = { url, keys: Array.isArray(document.keys) ? document.keys : [], fetchedAtMs: Date.now() };
}

async function findKey(config, header) {
  const age = Date.now() - jwks.fetchedAtMs;
  if (jwks.url !== config.jwksUrl || age > JWKS_MAX_AGE_MS) {
    await fetchKeys(config.jwksUrl);
  }
  const matches = () =>
    jwks.keys.filter(
      (key) =>
        key.kty === ALGORITHMS[header.alg].kty &&
        (header.kid === undefined || key.kid === header.kid) &&
        (key.alg === undefined || key.alg === header.alg) &&
        (key.use === undefined || key.use === "sig"),
    );
  let candidates = matches();
  if (candidates.length === 0 && Date.now() - jwks.fetchedAtMs > JWKS_REFETCH_MS) {
    await fetchKeys(config.jwksUrl);
    candidates = matches();
  }
  if (candidates.length === 0) {
    throw invalid(`no ${header.alg} key with id ${JSON.stringify(header.kid ?? null)} in the JWKS`);
  }
  return candidates[0];
}

/**
 * Verify a compact JWS: the algorithm (RS256 or ES256 only, so `none` and HMAC are rejected), the
 * signature against the JWKS, `exp` (required), `nbf`, and `iss` and `aud` when configured.
 * Return the claims, or throw Blocked with INVALID_TOKEN or TOKEN_EXPIRED.
 */
export async function verifyToken(token, config, nowS = Date.now() / 1000) {
  const parts = token.split(".");
  if (parts.length !== 3) {
    throw invalid("it is not a JWS in compact form (three dot-separated parts)");
  }
  const header = decodeJson(parts[0], "header");
  const claims = decodeJson(parts[1], "payload");
  const algorithm = ALGORITHMS[header.alg];
  if (algorithm === undefined) {
    throw invalid(`algorithm ${JSON.stringify(header.alg)} is not accepted, only RS256 and ES256`);
  }

  const jwk = await findKey(config, header);
  let key;
  try {
    key = await crypto.subtle.importKey("jwk", jwk, algorithm.importParams, false, ["verify"]);
  } catch (error) {
    throw invalid(`the JWKS key ${JSON.stringify(jwk.kid ?? null)} cannot be imported (${error.message})`);
  }
  const signed = new TextEncoder().encode(`${parts[0]}.${parts[1]}`);
  const verified = await crypto.subtle.verify(algorithm.verifyParams, key, decodeBase64Url(parts[2]), signed);
  if (!verified) {
    throw invalid("the signature does not match");
  }

  checkClaims(claims, config, nowS);
  return claims;
}

function checkClaims(claims, config, nowS) {
  if (typeof claims.exp !== "number") {
    throw invalid("it has no exp claim");
  }
  if (nowS > claims.exp + CLOCK_SKEW_S) {
    throw new Blocked("TOKEN_EXPIRED", 401, "The bearer token has expired.", `token expired at ${claims.exp}`);
  }
  if (typeof claims.nbf === "number" && nowS < claims.nbf - CLOCK_SKEW_S) {
    throw invalid("it is not valid yet (nbf)");
  }
  if (config.jwtIssuer !== null && claims.iss !== config.jwtIssuer) {
    throw invalid(`issuer ${JSON.stringify(claims.iss ?? null)} is not the expected one`);
  }
  if (config.jwtAudiences !== null && config.jwtAudiences.length > 0) {
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.some((audience) => config.jwtAudiences.includes(audience))) {
      throw invalid(`audience ${JSON.stringify(claims.aud ?? null)} is not one of the expected ones`);
    }
  }
}
