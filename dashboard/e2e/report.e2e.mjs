// The HTML report of `testmesh run --report html=FILE` as a person opens it, in Debian's headless
// Chromium: a run of 50 flows of 20 steps each (HTTP steps against a mock each flow starts, one
// flow with a failing assertion), opened from disk. It must render everything offline, show the
// failure with the value seen, fold and unfold JSON, and fetch nothing from any network. The
// time to render is printed, not asserted. Screenshots go to test-output/.
//
// Needs TESTMESH_BIN: the testmesh binary (scripts/test.sh passes the one it built).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const OUTPUT = resolve(here, "../test-output");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const BINARY = process.env.TESTMESH_BIN;
const FLOWS = 50;
const STEPS = 20; // per flow: the mock in setup, 18 requests, a log line
const FAILING = 7; // the flow whose last request asserts a wrong total

let work;
let report;
let browser;

function flowFile(index) {
  const requests = Array.from({ length: STEPS - 2 }, (_, step) => {
    const last = step === STEPS - 3;
    const expected = last && index === FAILING ? 31 : 30;
    return `    - id: order_${step}
      action: http_request
      config:
        url: "\${mock.base_url}/orders/${step}"
        headers: {Authorization: "Bearer \${TOKEN}"}
      assert:
        - status == 200
        - body.total == ${expected}
      output:
        order_${step}_id: $.body.id`;
  }).join("\n");
  return `flow:
  name: Orders ${index}
  setup:
    - id: mock
      action: mock_server_start
      config:
        endpoints:
          - path: /orders/{id}
            response: {status_code: 200, body_json: {id: "order-${index}", total: 30, items: [{sku: A-1, qty: 2}]}}
  steps:
${requests}
    - id: note
      action: log
      config: {message: "flow ${index} checked \${order_0_id}"}
`;
}

before(() => {
  assert.ok(BINARY && existsSync(BINARY), `TESTMESH_BIN must name the testmesh binary (got ${BINARY})`);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  mkdirSync(OUTPUT, { recursive: true });
  work = mkdtempSync(join(tmpdir(), "testmesh-report-"));
  mkdirSync(join(work, "flows"));
  for (let index = 0; index < FLOWS; index += 1) writeFileSync(join(work, "flows", `orders-${index}.yaml`), flowFile(index));
  report = join(work, "out", "report.html");
  const run = spawnSync(BINARY, ["run", join(work, "flows"), "--report", `html=${report}`, "--secret", "TOKEN"], {
    encoding: "utf8",
    env: { ...process.env, TOKEN: "report-secret-token" },
    timeout: 120_000,
  });
  assert.equal(run.status, 1, `one flow fails an assertion, so the exit code is 1:\n${run.stdout}\n${run.stderr}`);
  assert.ok(existsSync(report), "the report was written");
});

after(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("html report", () => {
  it("renders a 50-flow run offline, with the failure, the timeline and folding JSON", async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const fetched = [];
    page.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith("file:") && !url.startsWith("data:")) fetched.push(url);
    });
    const problems = [];
    page.on("pageerror", (error) => problems.push(error.message));

    const started = performance.now();
    await page.goto(pathToFileURL(report).href, { waitUntil: "load" });
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    const rendered = performance.now() - started;
    const kib = statSync(report).size / 1024;
    console.log(`html report: ${FLOWS} flows × ${STEPS} steps, ${kib.toFixed(0)} KiB, rendered in ${rendered.toFixed(0)} ms (goal < 2000 ms)`);

    assert.equal(await page.getByTestId("flow").count(), FLOWS);
    assert.equal(await page.getByTestId("step").count(), FLOWS * STEPS);
    assert.equal(await page.getByTestId("bar").count(), FLOWS * STEPS, "one waterfall bar per step");
    const totals = await page.getByTestId("totals").textContent();
    assert.match(totals, /50 flows/);
    assert.match(totals, /49 Passed/);
    assert.match(totals, /1 Failed/);

    const failing = page.locator(`[data-testid=flow][data-name="Orders ${FAILING}"]`);
    assert.equal(await failing.count(), 1);
    const failedStep = failing.locator("[data-testid=step][data-status=failed]");
    assert.equal(await failedStep.count(), 1);
    assert.equal(await failedStep.getAttribute("open"), "", "a failed step starts open");
    const assertions = await failedStep.getByTestId("assertions").textContent();
    assert.match(assertions, /body\.total == 31/);
    assert.match(assertions, /body\.total = 30/, "the value seen stands beside the expectation");
    await failing.scrollIntoViewIfNeeded();
    await page.screenshot({ path: resolve(OUTPUT, "report-failed-flow.png") });

    const passedStep = page.locator("[data-testid=step][data-status=passed]").nth(3);
    assert.equal(await passedStep.getAttribute("open"), null, "a passed step starts folded");
    await passedStep.locator("summary").first().click();
    const response = passedStep.getByTestId("response");
    await response.locator("summary").first().click();
    const text = await response.textContent();
    assert.match(text, /order-\d+/, "the response body is shown once unfolded");
    const request = await passedStep.getByTestId("request").textContent();
    assert.ok(!request.includes("report-secret-token"), "the secret is masked in the request");

    const html = await page.content();
    assert.ok(!html.includes("report-secret-token"), "the secret appears nowhere in the page");
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: resolve(OUTPUT, "report.png") });
    assert.deepEqual(fetched, [], "the report fetches nothing");
    assert.deepEqual(problems, []);
    await context.close();
  });
});
