// The dashboard as a person sees it, in Debian's headless Chromium: the overview, a failing flow,
// a failed run with its failed assertion, the lists and the theme. Screenshots go to test-output/.
//
// By default it serves `out/` (run `npm run build` first) with the fixture API (e2e/server.mjs).
// With E2E_BASE_URL set it uses that server instead — e.g. `testmesh api` over a seeded database.
// Every expectation is read from the API the page talks to, so the same test holds for both.

import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startServer } from "./server.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const OUTPUT = resolve(here, "../test-output");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TIMEOUT = 15_000;
const LAPTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

let base;
let server;
let browser;

async function apiJson(path) {
  const response = await fetch(`${base}/api/v1${path}`);
  assert.equal(response.status, 200, `GET /api/v1${path} answered ${response.status}`);
  return response.json();
}

async function newPage(viewport = LAPTOP, colorScheme = "light") {
  const context = await browser.newContext({ viewport, colorScheme, deviceScaleFactor: 1 });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) problems.push(`console error: ${message.text()}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} for ${response.url()}`);
  });
  return { page, context, problems };
}

async function shoot(page, name) {
  await page.screenshot({ path: resolve(OUTPUT, `${name}.png`), fullPage: true });
}

const percent = (rate, digits = 0) => (rate === null ? "—" : `${(rate * 100).toFixed(digits)}%`);

before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  if (process.env.E2E_BASE_URL) {
    base = process.env.E2E_BASE_URL.replace(/\/+$/, "");
  } else {
    const root = resolve(here, "../out");
    assert.ok(existsSync(resolve(root, "index.html")), "out/index.html is missing: run `npm run build` first");
    ({ server, url: base } = await startServer({ port: 0, root }));
  }
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((done) => (server ? server.close(done) : done()));
});

describe("dashboard", () => {
  it("overview shows the pass rate, failing flows, flaky flows and recent runs", async () => {
    const overview = await apiJson("/overview");
    const { page, context, problems } = await newPage();
    await page.goto(`${base}/`);
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    const passRate = page.getByTestId("stat-pass-rate-24h-");
    await passRate.waitFor();
    assert.equal((await passRate.textContent())?.trim(), percent(overview.passRate24h, 1));
    assert.equal((await page.getByTestId("stat-runs-24h-").textContent())?.trim(), String(overview.runs24h));
    if (overview.failingFlows.length > 0) {
      const failing = page.getByTestId("failing-flows");
      for (const flow of overview.failingFlows) assert.ok((await failing.textContent()).includes(flow.name), `failing flow ${flow.name} is listed`);
    }
    if (overview.flakyFlows.length > 0) {
      const flaky = page.getByTestId("flaky-table");
      const text = await flaky.textContent();
      for (const flow of overview.flakyFlows) assert.ok(text.includes(flow.flowName), `flaky flow ${flow.flowName} is listed`);
      assert.ok(text.includes(Math.min(Math.max(overview.flakyFlows[0].flakiness, 0), 1).toFixed(2)), "the top flakiness score is shown");
    }
    assert.equal(await page.getByTestId("execution-row").count(), overview.recentRuns.length);
    await shoot(page, "overview");
    await page.setViewportSize(PHONE);
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the overview fits a phone's width (overflows by ${overflow}px)`);
    await shoot(page, "overview-phone");
    assert.deepEqual(problems, []);
    await context.close();
  });

  it("a failing flow shows its graph with the last run's step results, history and trend", async () => {
    const overview = await apiJson("/overview");
    const target = overview.failingFlows[0] ?? (await apiJson("/flows")).items[0];
    assert.ok(target, "there is a flow to open");
    const flow = await apiJson(`/flows/${encodeURIComponent(target.namespace)}/${encodeURIComponent(target.name)}`);
    const { page, context, problems } = await newPage();
    await page.goto(`${base}/`);
    await page.getByTestId("failing-flows").getByRole("link", { name: target.name, exact: true }).click();
    await page.getByRole("heading", { name: flow.displayName || flow.name }).waitFor();
    const stepCount = (flow.spec.setup ?? []).length + flow.spec.steps.length + (flow.spec.teardown ?? []).length;
    await page.getByTestId("flow-node").first().waitFor();
    assert.equal(await page.getByTestId("flow-node").count(), stepCount, "one node per step, setup and teardown included");
    assert.equal((await page.getByTestId("flow-pass-rate").textContent())?.trim(), percent(flow.passRate));
    if (flow.history.length > 0) {
      const last = await apiJson(`/executions/${encodeURIComponent(flow.history[0].runId)}`);
      const failedStep = last.steps.find((s) => s.status === "failed");
      if (failedStep) {
        const node = page.getByTestId("flow-node").filter({ hasText: failedStep.name ?? failedStep.stepId });
        await node.getByText("Failed").waitFor();
      }
      assert.equal(await page.getByTestId("history-table").locator("tbody tr").count(), flow.history.length);
    }
    if (flow.trend.length > 0) await page.getByTestId("trend-chart").locator("svg.recharts-surface").first().waitFor();
    await shoot(page, "flow");
    assert.deepEqual(problems, []);
    await context.close();
  });

  it("a failed run shows the failed assertion's expected value beside the actual one", async () => {
    const failed = (await apiJson("/executions?status=failed&limit=1")).items[0];
    assert.ok(failed, "there is a failed run");
    const run = await apiJson(`/executions/${encodeURIComponent(failed.runId)}`);
    const step = run.steps.find((s) => s.status === "failed" && s.assertions.some((a) => !a.passed));
    assert.ok(step, "the failed run has a step with a failed assertion");
    const assertion = step.assertions.find((a) => !a.passed);

    const { page, context, problems } = await newPage();
    await page.goto(`${base}/executions/?status=failed`);
    await page.getByTestId("execution-row").first().waitFor();
    const statuses = await page.locator("[data-testid=execution-row] [data-status]").evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-status")));
    assert.ok(statuses.length > 0 && statuses.every((s) => s === "failed"), `the status filter keeps failed runs only: ${statuses}`);
    await page.getByRole("link", { name: `Run ${failed.runId}` }).click();

    await page.getByTestId("step-detail").waitFor();
    assert.ok((await page.locator("main h1").textContent()).includes("Failed"));
    assert.ok((await page.getByTestId("step-detail").locator("h3").textContent()).includes(step.name ?? step.stepId), "the failed step opens first");
    assert.equal(await page.getByTestId("waterfall-row").count(), run.steps.length);
    const card = page.getByTestId("assertion").filter({ hasText: assertion.expression }).first();
    assert.equal(await card.getAttribute("data-passed"), "false");
    const [path, value] = Object.entries(assertion.actual)[0];
    const actualText = await card.getByTestId("actual").first().textContent();
    assert.equal(actualText, JSON.stringify(value), `actual value of ${path}`);
    const comparison = /^(.+?)\s*==\s*(.+)$/.exec(assertion.expression);
    if (comparison) assert.equal(await card.getByTestId("expected").first().textContent(), comparison[2].trim(), "expected value");
    if (assertion.message) await card.getByText(assertion.message).waitFor();

    const viewer = page.getByTestId("json-viewer");
    if (step.response && typeof step.response === "object") {
      await viewer.waitFor();
      const fold = viewer.getByRole("button", { name: "Fold value" });
      await fold.click();
      await viewer.getByRole("button", { name: "Unfold value" }).waitFor();
      await viewer.getByRole("button", { name: "Unfold value" }).click();
      await viewer.getByRole("button", { name: "Fold value" }).waitFor();
    }
    await shoot(page, "execution-failed");
    await page.setViewportSize(PHONE);
    await page.getByTestId("step-detail").waitFor();
    await shoot(page, "execution-failed-phone");
    assert.deepEqual(problems, []);
    await context.close();
  });

  it("a running run updates live from its event stream", async (t) => {
    const running = (await apiJson("/executions?status=running&limit=1")).items[0];
    if (!running) return t.skip("no running run to follow");
    const { page, context, problems } = await newPage();
    await page.goto(`${base}/executions/view/?id=${encodeURIComponent(running.runId)}`);
    await page.locator("main h1 [data-status]").first().waitFor();
    // The stream delivers the steps and then `finished`; the header follows without a reload.
    await page.waitForFunction(() => document.querySelector("main h1 [data-status]")?.getAttribute("data-status") !== "running", null, { timeout: 60_000 });
    const status = await page.locator("main h1 [data-status]").first().getAttribute("data-status");
    assert.ok(["passed", "failed", "error", "cancelled", "timed_out"].includes(status), `the run finished as ${status}`);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it("an unknown run shows the API's error message", async () => {
    const response = await fetch(`${base}/api/v1/executions/no-such-run`);
    assert.equal(response.status, 404);
    const { error } = await response.json();
    const { page, context } = await newPage();
    await page.goto(`${base}/executions/view/?id=no-such-run`);
    const alert = page.getByTestId("error-state");
    await alert.waitFor();
    const text = await alert.textContent();
    assert.ok(text.includes(error.message), `the page shows "${error.message}": ${text}`);
    assert.ok(text.includes(error.code));
    await context.close();
  });

  it("the executions list pages with its cursor", async () => {
    const first = await apiJson("/executions?limit=25&sort=-queuedAt");
    const { page, context, problems } = await newPage();
    await page.goto(`${base}/executions/`);
    await page.getByTestId("execution-row").first().waitFor();
    assert.equal(await page.getByTestId("execution-row").count(), first.items.length);
    if (first.nextCursor) {
      const second = await apiJson(`/executions?limit=25&sort=-queuedAt&cursor=${encodeURIComponent(first.nextCursor)}`);
      await page.getByRole("button", { name: "Load more" }).click();
      await page.getByTestId("execution-row").nth(first.items.length + second.items.length - 1).waitFor();
    }
    assert.deepEqual(problems, []);
    await context.close();
  });

  it("schedules show next runs and environments show secrets by name only", async () => {
    const environments = await apiJson("/environments");
    const { page, context, problems } = await newPage();
    await page.goto(`${base}/schedules/`);
    await page.getByRole("heading", { name: "Schedules" }).waitFor();
    await page.locator("[data-testid=schedules-table], [data-testid=empty-state]").first().waitFor();
    await shoot(page, "schedules");
    await page.goto(`${base}/environments/`);
    await page.getByRole("heading", { name: "Environments" }).waitFor();
    if (environments.items.length > 0) {
      await page.getByTestId("environment").first().waitFor();
      const text = await page.locator("main").textContent();
      for (const ref of environments.items.flatMap((env) => env.secretRefs)) assert.ok(text.includes(ref.name), `secret ref ${ref.name} is named`);
    }
    await shoot(page, "environments");
    assert.deepEqual(problems, []);
    await context.close();
  });

  it("the theme toggle switches to dark and stays dark after a reload", async () => {
    const { page, context } = await newPage();
    await page.goto(`${base}/`);
    await page.getByRole("button", { name: "Switch to dark theme" }).click();
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains("dark")), true);
    await page.reload();
    await page.getByRole("button", { name: "Switch to light theme" }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains("dark")), true);
    await page.getByTestId("stat-pass-rate-24h-").waitFor();
    await shoot(page, "overview-dark");
    const failed = (await apiJson("/executions?status=failed&limit=1")).items[0];
    if (failed) {
      await page.goto(`${base}/executions/view/?id=${encodeURIComponent(failed.runId)}`);
      await page.getByTestId("step-detail").waitFor();
      await shoot(page, "execution-failed-dark");
    }
    await context.close();
  });
});
