// Compose subgraph schemas into a supergraph with Apollo's composition library.
//
// Input (stdin):  {"subgraphs": [{"name": "users", "url": "http://...", "sdl": "type Query ..."}]}
// Output (stdout): {"supergraphSdl": "...", "hints": [...]} on success, or
//                  {"errors": [{"code", "message", "locations": [{"subgraph", "line", "column"}]}]}
//
// Both outcomes exit with status 0, so the caller can tell a schema problem (reported as JSON)
// from a broken tool (non-zero status, message on stderr).

import { composeServices } from "@apollo/composition";
import { GraphQLError, Source, getLocation, parse } from "graphql";

// Syntax errors come from graphql-js itself and carry no federation code, so they get the code
// that federation uses for invalid GraphQL documents.
const PARSE_ERROR_CODE = "INVALID_GRAPHQL";

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function validateRequest(request) {
  if (request === null || typeof request !== "object" || !Array.isArray(request.subgraphs)) {
    throw new Error('input must be a JSON object with a "subgraphs" array');
  }
  request.subgraphs.forEach((subgraph, index) => {
    for (const field of ["name", "sdl"]) {
      if (typeof subgraph?.[field] !== "string") {
        throw new Error(`subgraphs[${index}].${field} must be a string`);
      }
    }
    if (subgraph.url !== undefined && subgraph.url !== null && typeof subgraph.url !== "string") {
      throw new Error(`subgraphs[${index}].url must be a string or null`);
    }
  });
}

// Each AST node parsed from `new Source(sdl, name)` remembers its source, so the source name is
// the subgraph the node came from.
function nodeLocations(error) {
  const locations = [];
  for (const node of error.nodes ?? []) {
    if (!node?.loc?.source) {
      continue;
    }
    const { line, column } = getLocation(node.loc.source, node.loc.start);
    locations.push({ subgraph: node.loc.source.name, line, column });
  }
  return locations;
}

function syntaxErrorLocations(error) {
  if (!error.source) {
    return [];
  }
  return (error.locations ?? []).map(({ line, column }) => ({
    subgraph: error.source.name,
    line,
    column,
  }));
}

function describeError(error, fallbackCode) {
  const code = error.extensions?.code ?? fallbackCode;
  const locations = error.nodes ? nodeLocations(error) : syntaxErrorLocations(error);
  return { code: code ?? null, message: error.message, locations };
}

function parseSubgraphs(subgraphs) {
  const services = [];
  const errors = [];
  for (const { name, url, sdl } of subgraphs) {
    try {
      services.push({ name, url: url ?? undefined, typeDefs: parse(new Source(sdl, name)) });
    } catch (error) {
      if (!(error instanceof GraphQLError)) {
        throw error;
      }
      errors.push(describeError(error, PARSE_ERROR_CODE));
    }
  }
  return { services, errors };
}

async function main() {
  const request = JSON.parse(await readStdin());
  validateRequest(request);

  // Every subgraph is parsed before composing, so one run reports the syntax errors of all of them.
  const { services, errors: parseErrors } = parseSubgraphs(request.subgraphs);
  if (parseErrors.length > 0) {
    return { errors: parseErrors };
  }

  const result = composeServices(services);
  if (result.errors) {
    return { errors: result.errors.map((error) => describeError(error, null)) };
  }
  const hints = result.hints.map((hint) => ({
    code: hint.definition.code,
    message: hint.message,
  }));
  return { supergraphSdl: result.supergraphSdl, hints };
}

try {
  const output = await main();
  process.stdout.write(JSON.stringify(output));
  process.stdout.write("\n");
} catch (error) {
  process.stderr.write(`compose.mjs: ${error?.stack ?? error}\n`);
  process.exitCode = 2;
}
