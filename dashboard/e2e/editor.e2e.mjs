// The flow editor in Debian's headless Chromium, against the real `testmesh api` (draft runs on),
// a real executor, PostgreSQL and Redis, and `testmesh mock` serving an orders API
// (scripts/e2e-editor.sh starts them all):
//   1. build a three-step flow from scratch by drag and form;
//   2. add an assertion with a typo and see the error on its node;
//   3. fix it, run the draft, see it pass with the response visible;
//   4. capture a field of the response by clicking it;
//   5. export the TestFlow manifest and check that `testmesh validate` accepts it.
// Then the time a 200-step flow takes to load is printed (not asserted), a flow's "Edit a copy"
// shows its validation problem on its node, and the executions list marks the draft run. Screenshots go to test-output/editor-*.png.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const OUTPUT = resolve(here, "../test-output");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TIMEOUT = 20_000;
const RUN_TIMEOUT = 90_000;
const base = (process.env.E2E_BASE_URL ?? "").replace(/\/+$/, "");
const mock = (process.env.E2E_MOCK_URL ?? "").replace(/\/+$/, "");
const testmesh = process.env.TESTMESH_BIN ?? "";
const ready = base !== "" && mock !== "" && testmesh !== "";

let browser;
let page;
const problems = [];

const shoot = (name) => page.screenshot({ path: resolve(OUTPUT, `editor-${name}.png`), fullPage: true });
const yamlText = () => page.locator(".cm-content").innerText();
const node = (index) => page.locator(`[data-testid="editor-node"][data-path="steps/${index}"]`);

before(async () => {
  if (!ready) return;
  mkdirSync(OUTPUT, { recursive: true });
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, deviceScaleFactor: 1 });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
});

after(async () => {
  await browser?.close();
});

describe("flow editor", { skip: ready ? false : "set E2E_BASE_URL, E2E_MOCK_URL and TESTMESH_BIN (scripts/e2e-editor.sh)" }, () => {
  it("1. builds a three-step flow by drag and form", async () => {
    await page.goto(`${base}/flows/new/`);
    await page.locator('[data-testid="palette-item"][data-action="http_request"]').waitFor();
    const lane = await page.locator(".react-flow__node-lane", { hasText: "Steps" }).boundingBox();
    await page.locator('[data-testid="palette-item"][data-action="http_request"]').dragTo(page.getByTestId("editor-canvas"), {
      targetPosition: await (async () => {
        const canvas = await page.getByTestId("editor-canvas").boundingBox();
        return { x: lane.x + lane.width + 80 - canvas.x, y: lane.y + lane.height / 2 - canvas.y };
      })(),
    });
    await node(0).waitFor();
    await page.getByLabel("config.url").fill(`${mock}/orders/1`);
    await page.getByLabel("id", { exact: true }).fill("get_order");
    await page.locator('[data-testid="palette-item"][data-action="log"]').click();
    await node(1).waitFor();
    await page.getByLabel("config.message").fill("order read");
    await page.locator('[data-testid="palette-item"][data-action="delay"]').click();
    await node(2).waitFor();
    await page.getByLabel("config.duration").fill("10ms");
    const text = await yamlText();
    assert.match(text, /id: get_order/);
    assert.match(text, new RegExp(`url: ${mock.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/orders/1`));
    assert.match(text, /action: log/);
    assert.match(text, /duration: 10ms/);
    await shoot("1-built");
  });

  it("2. shows an assertion typo on its node", async () => {
    await node(0).click();
    await page.getByRole("button", { name: "Assertion" }).click();
    await page.getByLabel("assert[0]").fill("status === 200");
    await node(0).locator('[data-testid="node-errors"]').waitFor();
    assert.ok(Number(await node(0).getAttribute("data-errors")) >= 1);
    await page.locator('[data-testid="field-problems"]').first().waitFor();
    await shoot("2-typo");
  });

  it("3. runs the fixed draft and shows it pass with the response", async () => {
    await page.getByLabel("assert[0]").fill("status == 200");
    await node(0).locator('[data-testid="node-errors"]').waitFor({ state: "detached" });
    await page.getByText("Draft run", { exact: true }).click();
    await page.getByRole("button", { name: "Run draft" }).click();
    await page.locator('[data-testid="draft-status"][data-status="passed"]').waitFor({ timeout: RUN_TIMEOUT });
    await page.locator('[data-testid="draft-step"]', { hasText: "get_order" }).click();
    await page.locator('[data-testid="step-detail"] [data-testid="json-viewer"]').waitFor();
    assert.match(await page.getByTestId("step-detail").innerText(), /ord-1/);
    const runs = await (await fetch(`${base}/api/v1/executions`)).json();
    assert.equal(runs.items[0].draft, true, "the run is recorded as a draft");
    assert.equal(runs.items[0].status, "passed");
    await shoot("3-passed");
  });

  it("4. captures a response field by clicking it", async () => {
    await page.locator('[data-testid="pick-field"][data-path="$.body.id"]').click();
    await page.waitForFunction(() => document.querySelector(".cm-content")?.textContent?.includes("$.body.id"));
    assert.match(await yamlText(), /output:\s*\n\s*id: \$\.body\.id/);
    await shoot("4-captured");
  });

  it("5. exports a manifest that testmesh validate accepts", async () => {
    await page.getByRole("button", { name: "Export" }).click();
    await page.getByLabel("Namespace", { exact: true }).fill("default");
    await page.getByLabel("Schedule (cron, adds a TestSchedule)").fill("0 6 * * *");
    const manifest = await page.getByTestId("export-output").innerText();
    assert.match(manifest, /kind: TestFlow/);
    assert.match(manifest, /kind: TestSchedule/);
    assert.match(await page.getByTestId("kubectl-line").innerText(), /^kubectl apply -f .+\.testflow\.yaml$/);
    const file = resolve(OUTPUT, "editor-export.testflow.yaml");
    writeFileSync(file, manifest);
    const out = execFileSync(testmesh, ["validate", file], { encoding: "utf8" });
    assert.match(out, /1 flow valid/);
    await shoot("5-export");
    await page.keyboard.press("Escape");
  });

  it("loads a 200-step flow (time printed)", async () => {
    const steps = Array.from({ length: 200 }, (_, i) => `  - id: s${i}\n    action: http_request\n    config: {url: "${mock}/orders/1"}\n    assert: [status == 200]\n`).join("");
    const text = `# 200 steps\nname: Big flow\nsteps:\n${steps}`;
    await page.evaluate((yaml) => window.localStorage.setItem("testmesh-editor:new", yaml), text);
    await page.goto(`${base}/flows/new/`);
    await page.getByRole("button", { name: "Restore it" }).waitFor();
    const started = Date.now();
    await page.getByRole("button", { name: "Restore it" }).click();
    await node(199).waitFor({ state: "attached" });
    const elapsed = Date.now() - started;
    await page.getByTestId("editor-summary").filter({ hasText: /Valid|errors/ }).waitFor();
    console.log(`editor: a 200-step flow loaded in ${elapsed} ms (validated ${Date.now() - started} ms after the click)`);
    await shoot("6-200-steps");
  });

  it("opens a copy of a flow with each problem on its node", async () => {
    await page.goto(`${base}/flows/view/?ns=default&name=orders-check`);
    await page.getByTestId("edit-a-copy").click();
    await page.getByRole("heading", { name: "Edit a copy of default/orders-check" }).waitFor();
    await node(1).locator('[data-testid="node-errors"]').waitFor();
    assert.match(await node(1).locator('[data-testid="node-errors"]').getAttribute("title"), /unknown action `htp`/);
    assert.equal(await node(0).getAttribute("data-errors"), "0");
    await shoot("7-copy");
  });

  it("reorders steps by dragging a node along its row", async () => {
    await page.goto(`${base}/flows/new/`);
    for (let i = 0; i < 3; i++) await page.locator('[data-testid="palette-item"][data-action="log"]').click();
    await node(2).waitFor();
    const first = await node(0).boundingBox();
    await node(2).hover();
    await page.mouse.down();
    await page.mouse.move(first.x + 5, first.y + first.height / 2, { steps: 12 });
    await page.mouse.up();
    await page.waitForFunction(() => /id: log_3[\s\S]*id: log\n[\s\S]*id: log_2/.test(document.querySelector(".cm-content")?.innerText ?? ""));
  });

  it("keeps its keyboard promises: duplicate, undo, redo and the shortcuts list", async () => {
    await node(0).click();
    await page.keyboard.press("Control+d");
    await node(3).waitFor();
    await page.keyboard.press("Control+z");
    await node(3).waitFor({ state: "detached" });
    await page.keyboard.press("Control+y");
    await node(3).waitFor();
    await page.keyboard.press("?");
    const shortcuts = page.getByRole("dialog", { name: "Keyboard shortcuts" });
    await shortcuts.waitFor();
    assert.match(await shortcuts.innerText(), /Show these shortcuts/);
    await page.keyboard.press("Escape");
  });

  it("marks the draft run in the executions list", async () => {
    await page.goto(`${base}/executions/`);
    const row = page.locator('[data-testid="execution-row"]', { has: page.getByTestId("draft-badge") });
    await row.first().waitFor();
    assert.match(await row.first().innerText(), /draft-new-flow/);
    await shoot("8-executions");
    assert.deepEqual(problems, []);
  });
});
