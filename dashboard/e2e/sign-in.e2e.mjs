// Signing in to the dashboard, in Debian's headless Chromium, against `testmesh api --auth
// kubernetes` (scripts/e2e-auth.sh starts it, with a stand-in API server that lets the token's
// user read one namespace): the sign-in page with the kubectl line, the pasted token, only the
// allowed namespace in every list and filter, a direct link into another namespace refused by
// name, and sign-out forgetting the token.
//
//   E2E_BASE_URL=http://127.0.0.1:PORT E2E_TOKEN=... E2E_NAMESPACE=shop npm run e2e:sign-in

import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const OUTPUT = resolve(here, "../test-output");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TIMEOUT = 15_000;
const base = (process.env.E2E_BASE_URL ?? "").replace(/\/+$/, "");
const token = process.env.E2E_TOKEN ?? "";
const allowed = process.env.E2E_NAMESPACE ?? "";

let browser;

/** The API's answer to `path` for the signed-in user. */
async function apiJson(path) {
  const response = await fetch(`${base}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200, `GET /api/v1${path} answered ${response.status}`);
  return response.json();
}

before(async () => {
  assert.ok(base && token && allowed, "set E2E_BASE_URL, E2E_TOKEN and E2E_NAMESPACE (scripts/e2e-auth.sh does)");
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  mkdirSync(OUTPUT, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
});

after(async () => {
  await browser?.close();
});

describe("sign-in", () => {
  it("asks for a token, shows only the allowed namespace, refuses another by name, and signs out", async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    const problems = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));

    await page.goto(`${base}/executions/`);
    const form = page.getByRole("form", { name: "Sign in" });
    await form.waitFor();
    assert.match(await page.getByTestId("create-token-command").innerText(), /^kubectl create token /);
    await page.screenshot({ path: resolve(OUTPUT, "sign-in.png"), fullPage: true });

    await page.getByLabel("Token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Executions" }).waitFor();
    await page.getByTestId("session").getByText("shop-developer").waitFor();
    assert.equal(await page.evaluate(() => JSON.parse(sessionStorage.getItem("testmesh-session")).state.token), token);

    const runs = await apiJson("/executions?limit=200");
    assert.ok(runs.items.length > 0, "the allowed namespace has runs");
    assert.ok(runs.items.every((run) => run.namespace === allowed));
    await page.getByLabel("Namespace").locator("option", { hasText: allowed }).waitFor({ state: "attached" });
    const options = await page.getByLabel("Namespace").locator("option").allInnerTexts();
    assert.deepEqual(options, ["All namespaces", allowed], "the filter offers only the allowed namespace");
    await page.getByTestId("executions-table").waitFor();
    const table = await page.getByTestId("executions-table").innerText();
    assert.ok(table.includes(allowed), "the allowed namespace's runs show");
    for (const other of ["billing", "identity"]) assert.ok(!table.includes(other), `${other} shows in the executions table`);

    await page.goto(`${base}/flows/view/?ns=billing&name=invoice-pdf`);
    await page.getByRole("alert").getByText("you do not have access to namespace billing").waitFor();

    await page.goto(`${base}/`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await form.waitFor();
    assert.equal(await page.evaluate(() => JSON.parse(sessionStorage.getItem("testmesh-session")).state.token), null);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
