// Run the edge Worker locally in workerd through Miniflare's API, with no outside connection.
//
// Usage: node scripts/serve.mjs --host 127.0.0.1 --port 8787 --bindings bindings.json
// The Worker is bundled with esbuild (the bundler wrangler uses) in memory, so no wrangler
// process runs locally. `cf: false` stops Miniflare from fetching request.cf data from Cloudflare.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import * as esbuild from "esbuild";
import { Log, LogLevel, Miniflare } from "miniflare";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8787" },
    bindings: { type: "string" },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`invalid --port ${JSON.stringify(values.port)}: expected a TCP port number`);
  process.exit(2);
}
const bindings = values.bindings ? JSON.parse(readFileSync(values.bindings, "utf8")) : {};
const compatibilityDate = /compatibility_date\s*=\s*"([^"]+)"/.exec(readFileSync(join(root, "wrangler.toml"), "utf8"))[1];

const bundle = await esbuild.build({
  entryPoints: [join(root, "src", "worker.js")],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  write: false,
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});

const miniflare = new Miniflare({
  modules: true,
  script: bundle.outputFiles[0].text,
  compatibilityDate,
  host: values.host,
  port,
  bindings,
  cf: false,
  log: new Log(LogLevel.INFO),
});
const url = await miniflare.ready;
console.log(JSON.stringify({ level: "info", event: "edge_started", url: url.href, origin: bindings.ORIGIN_URL }));

async function stop(signal) {
  console.log(JSON.stringify({ level: "info", event: "edge_stopping", signal }));
  await miniflare.dispose();
  process.exit(0);
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
