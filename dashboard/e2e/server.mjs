// A tiny server for the dashboard's static export (`out/`) that also answers /api/v1/* from the
// JSON fixtures, so the end-to-end test (and a person) can use the dashboard without the Rust API.
// Usage: node e2e/server.mjs [port]   (PORT env works too; 0 picks a free port)

import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURE_NOW = Date.parse("2026-01-15T09:00:00.000Z");
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
};
const STATUSES = new Set(["queued", "running", "passed", "failed", "error", "cancelled", "timed_out"]);
const TRIGGERS = new Set(["schedule", "annotation", "change", "manual"]);

class HttpError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Moves every timestamp so the fixtures' "now" is the real now. */
function shiftTimes(value, offset) {
  if (typeof value === "string") return ISO.test(value) ? new Date(Date.parse(value) + offset).toISOString() : value;
  if (Array.isArray(value)) return value.map((item) => shiftTimes(item, offset));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shiftTimes(v, offset)]));
  return value;
}

function fixture(dir, name) {
  const file = join(dir, `${name}.json`);
  if (!existsSync(file)) return null;
  return shiftTimes(JSON.parse(readFileSync(file, "utf8")), Date.now() - FIXTURE_NOW);
}

function required(dir, name, what) {
  const data = fixture(dir, name);
  if (data === null) throw new HttpError(404, "not_found", `${what} not found`);
  return data;
}

function listExecutions(dir, query) {
  const status = query.get("status");
  if (status && !status.split(",").every((s) => STATUSES.has(s))) throw new HttpError(400, "bad_parameter", `status: unknown status ${JSON.stringify(status)}`);
  const trigger = query.get("trigger");
  if (trigger && !TRIGGERS.has(trigger)) throw new HttpError(400, "bad_parameter", `trigger: unknown trigger ${JSON.stringify(trigger)}`);
  const limitText = query.get("limit") ?? "50";
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new HttpError(400, "bad_parameter", `limit: expected 1..500, got ${JSON.stringify(limitText)}`);
  const from = query.get("from") ? Date.parse(query.get("from")) : null;
  const to = query.get("to") ? Date.parse(query.get("to")) : null;
  if (Number.isNaN(from) || Number.isNaN(to)) throw new HttpError(400, "bad_parameter", "from/to: expected RFC 3339 timestamps");
  const items = required(dir, "executions", "executions").items.filter(
    (run) =>
      (!status || status.split(",").includes(run.status)) &&
      (!trigger || run.trigger === trigger) &&
      (!query.get("namespace") || run.namespace === query.get("namespace")) &&
      (!query.get("flow") || run.flowName === query.get("flow")) &&
      (!query.get("environment") || run.environment === query.get("environment")) &&
      (from === null || Date.parse(run.queuedAt) >= from) &&
      (to === null || Date.parse(run.queuedAt) <= to),
  );
  const cursor = query.get("cursor");
  const start = cursor ? Number(Buffer.from(cursor, "base64url").toString()) : 0;
  if (!Number.isInteger(start) || start < 0) throw new HttpError(400, "bad_parameter", "cursor: not a cursor this server gave out");
  const page = items.slice(start, start + limit);
  const next = start + limit < items.length ? Buffer.from(String(start + limit)).toString("base64url") : null;
  return { items: page, nextCursor: next };
}

function listFlows(dir, query) {
  const q = (query.get("q") ?? "").toLowerCase();
  return {
    items: required(dir, "flows", "flows").items.filter(
      (flow) =>
        (!query.get("namespace") || flow.namespace === query.get("namespace")) &&
        (!query.get("tag") || flow.tags.includes(query.get("tag"))) &&
        (!q || `${flow.name} ${flow.displayName}`.toLowerCase().includes(q)),
    ),
  };
}

/** Replays a run's events: each step, then `finished`. A running fixture finishes as passed. */
function streamEvents(dir, runId, response) {
  const run = required(dir, `execution-${runId}`, `execution ${runId}`);
  response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  const { steps, ...execution } = run;
  const send = (event, data) => response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const timer = setTimeout(() => {
    for (const step of steps) send("step", step);
    const finishedAt = new Date().toISOString();
    const done = execution.status === "running" || execution.status === "queued";
    send("finished", done ? { ...execution, status: "passed", finishedAt, durationMs: Date.now() - Date.parse(execution.startedAt ?? execution.queuedAt) } : execution);
    response.end();
  }, 800);
  response.on("close", () => clearTimeout(timer));
}

function api(dir, path, query, response) {
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const json = (data) => {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify(data));
  };
  const [head, ...rest] = parts;
  if (head === "overview" && rest.length === 0) return json(required(dir, "overview", "overview"));
  if (head === "flows" && rest.length === 0) return json(listFlows(dir, query));
  if (head === "flows" && rest.length === 2) return json(required(dir, `flow-${rest[0]}-${rest[1]}`, `flow ${rest[0]}/${rest[1]}`));
  if (head === "executions" && rest.length === 0) return json(listExecutions(dir, query));
  if (head === "executions" && rest.length === 1) return json(required(dir, `execution-${rest[0]}`, `execution ${rest[0]}`));
  if (head === "executions" && rest.length === 2 && rest[1] === "events") return streamEvents(dir, rest[0], response);
  if (head === "trends" && rest.length === 0) return json(required(dir, `trends-${query.get("namespace")}-${query.get("flow")}`, "trend"));
  if (head === "live" && rest.length === 0) {
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    response.write(": live feed open\n\n");
    return;
  }
  if (["flaky", "schedules", "environments", "session"].includes(head) && rest.length === 0) return json(required(dir, head, head));
  throw new HttpError(404, "not_found", `no API route /api/v1/${parts.join("/")}`);
}

function serveStatic(root, path, response) {
  const target = normalize(join(root, decodeURIComponent(path)));
  if (!target.startsWith(root)) throw new HttpError(403, "forbidden", "outside the site");
  const candidates = [target, join(target, "index.html"), `${target}.html`];
  const file = candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
  if (!file) {
    const notFound = join(root, "404.html");
    response.writeHead(404, { "content-type": TYPES[".html"] });
    if (existsSync(notFound)) createReadStream(notFound).pipe(response);
    else response.end("not found");
    return;
  }
  response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
  createReadStream(file).pipe(response);
}

export function startServer({ port = 0, root = resolve(here, "../out"), fixtures = resolve(here, "fixtures") } = {}) {
  const site = resolve(root);
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    try {
      if (url.pathname.startsWith("/api/v1/")) api(fixtures, url.pathname.slice("/api/v1".length), url.searchParams, response);
      else serveStatic(site, url.pathname, response);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      const code = error instanceof HttpError ? error.code : "internal";
      if (!response.headersSent) response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { code, message: error.message } }));
    }
  });
  return new Promise((resolvePromise) => {
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      resolvePromise({ server, url: `http://127.0.0.1:${address.port}` });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 3030);
  const { url } = await startServer({ port });
  console.log(`dashboard with fixture API on ${url}`);
}
