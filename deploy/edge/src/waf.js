// Request checks on the parsed operation and its variables: size, shape, introspection, injection.

import { Kind, parse } from "graphql";
import { Blocked } from "./errors.js";

/** Parse ``source`` with graphql-js, stopping early once it has more than ``maxTokens`` tokens. */
export function parseDocument(source, config) {
  try {
    return parse(source, { maxTokens: config.maxTokens, noLocation: true });
  } catch (error) {
    // graphql 16.15 words it "Document contains more that N tokens".
    if (/contains more th\w+ \d+ tokens/.test(error.message)) {
      throw new Blocked(
        "TOKEN_LIMIT_EXCEEDED",
        400,
        `The operation has more than ${config.maxTokens} tokens.`,
        `token limit ${config.maxTokens} exceeded`,
      );
    }
    throw new Blocked("GRAPHQL_PARSE_FAILED", 400, `The operation is not valid GraphQL: ${error.message}`);
  }
}

/**
 * Reject operations deeper, wider or with more aliases than the limits, and introspection outside
 * development. Fragment spreads are expanded, each fragment measured once, so a fragment spread a
 * thousand times counts a thousand times but costs one pass.
 */
export function checkDocument(document, config) {
  const fragments = new Map();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const measure = new Measure(fragments);
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) {
      continue;
    }
    const { depth, aliases, rootFields, introspection } = measure.selectionSet(definition.selectionSet);
    if (depth > config.maxDepth) {
      throw new Blocked("QUERY_TOO_DEEP", 400, `The operation is ${depth} levels deep; the limit is ${config.maxDepth}.`);
    }
    if (aliases > config.maxAliases) {
      throw new Blocked("TOO_MANY_ALIASES", 400, `The operation uses ${aliases} aliases; the limit is ${config.maxAliases}.`);
    }
    if (rootFields > config.maxRootFields) {
      throw new Blocked(
        "TOO_MANY_ROOT_FIELDS",
        400,
        `The operation selects ${rootFields} root fields; the limit is ${config.maxRootFields}.`,
      );
    }
    if (introspection && !config.development) {
      throw new Blocked("INTROSPECTION_DISABLED", 403, "Introspection is disabled outside development.");
    }
  }
}

class Measure {
  constructor(fragments) {
    this.fragments = fragments;
    this.memo = new Map();
    this.visiting = new Set();
  }

  selectionSet(selectionSet) {
    const total = { depth: 0, aliases: 0, rootFields: 0, introspection: false };
    for (const selection of selectionSet.selections) {
      const part = this.selection(selection);
      total.depth = Math.max(total.depth, part.depth);
      total.aliases += part.aliases;
      total.rootFields += part.rootFields;
      total.introspection ||= part.introspection;
    }
    return total;
  }

  selection(selection) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      const inner = selection.selectionSet
        ? this.selectionSet(selection.selectionSet)
        : { depth: 0, aliases: 0, introspection: false };
      return {
        depth: inner.depth + 1,
        aliases: inner.aliases + (selection.alias ? 1 : 0),
        rootFields: 1,
        introspection: inner.introspection || name === "__schema" || name === "__type",
      };
    }
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      return this.selectionSet(selection.selectionSet);
    }
    return this.fragmentSpread(selection.name.value);
  }

  fragmentSpread(name) {
    const empty = { depth: 0, aliases: 0, rootFields: 0, introspection: false };
    const fragment = this.fragments.get(name);
    // Unknown and cyclic fragments make the operation invalid; the router rejects it with details.
    if (fragment === undefined || this.visiting.has(name)) {
      return empty;
    }
    if (!this.memo.has(name)) {
      this.visiting.add(name);
      this.memo.set(name, this.selectionSet(fragment.selectionSet));
      this.visiting.delete(name);
    }
    return this.memo.get(name);
  }
}

// Patterns of common injection payloads. They are checked on variable values only, because the
// operation text itself is parsed and never reaches a database as text.
const INJECTION_PATTERNS = [
  [/\bunion\b[\s\S]{0,40}\bselect\b/i, "SQL UNION SELECT"],
  [/'\s*(or|and)\s+(\d+\s*=\s*\d+|'[^']*'\s*=\s*'|true\b)/i, "SQL tautology"],
  [/;\s*(drop|delete|insert|update|alter|truncate|create|exec)\s/i, "stacked SQL statement"],
  [/\bsleep\s*\(\s*\d+\s*\)|\bpg_sleep\s*\(|\bwaitfor\s+delay\b/i, "SQL time delay"],
  [/<\s*script\b|javascript\s*:|\bon(error|load)\s*=/i, "script injection"],
  [/\$\{\s*jndi\s*:/i, "JNDI lookup"],
  [/(\.\.[/\\]){2,}/, "path traversal"],
  [/\u0000/, "NUL byte"],
];
const MAX_VARIABLE_NESTING = 32;

/** Reject variables whose strings match an injection pattern or whose keys are NoSQL operators. */
export function checkVariables(variables) {
  const stack = [[variables, 0]];
  while (stack.length > 0) {
    const [value, level] = stack.pop();
    if (level > MAX_VARIABLE_NESTING) {
      throw new Blocked("VARIABLES_TOO_DEEP", 400, `Variables nest deeper than ${MAX_VARIABLE_NESTING} levels.`);
    }
    if (typeof value === "string") {
      checkString(value);
    } else if (Array.isArray(value)) {
      for (const item of value) {
        stack.push([item, level + 1]);
      }
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        if (key.startsWith("$")) {
          throw injection(`NoSQL operator key ${JSON.stringify(key)}`);
        }
        checkString(key);
        stack.push([item, level + 1]);
      }
    }
  }
}

function checkString(text) {
  for (const [pattern, name] of INJECTION_PATTERNS) {
    if (pattern.test(text)) {
      throw injection(name);
    }
  }
}

function injection(kind) {
  return new Blocked("INJECTION_DETECTED", 400, "A variable contains a value that looks like an injection attack.", kind);
}
