// The operator console and the customer connect page in a real headless Chromium (the OS
// package, driven by playwright-core), against the built worker under wrangler dev with
// loopback fakes. Covers sign-in, tenant creation, key rotation, an order appearing, a failed
// delivery replayed (one and all), a test result, a connect link used end to end (Ashby, and
// Greenhouse with Harvest v3 credentials shown as configured in the console), a revoked
// link refused, and the Content-Security-Policy holding (no console errors, no violations).
// Screenshots of the main screens go to test-output/screenshots/ for review.
//
// Chromium is required: scripts/setup.sh installs it (root with apt); without it this file
// fails rather than skipping.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { randomUUID } from "node:crypto";
import { startWorker, startReceiver, admin, edge, fixture, createTenant, createKey, ROOT, ADMIN_TOKEN, sleep } from "./harness.mjs";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = join(ROOT, "test-output", "screenshots");
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let w, hooks, ashby, recruitee, context, profile, page;
/** Everything the pages reported that a clean run must not have. */
const problems = [];
let ashbyKeyOk = true;

function watch(p) {
  p.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()} (${p.url()})`); });
  p.on("pageerror", (e) => problems.push(`page error: ${e.message} (${p.url()})`));
  return p;
}

async function newPage() {
  const p = watch(await context.newPage());
  return p;
}

async function shot(p, name) {
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Poll `fn` until it returns a truthy value (or throw after `ms`). */
async function until(fn, ms = 15_000, what = "condition") {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/setup.sh as root (it installs the chromium package)`);
  mkdirSync(SHOTS, { recursive: true });
  hooks = await startReceiver(() => ({ status: 200 }));
  ashby = await startReceiver((req) => {
    if (req.path === "/token") { // Greenhouse's Harvest v3 token endpoint, for the connect page's check
      const ok = req.headers.authorization === "Basic " + Buffer.from("hv-web:hv-good-secret").toString("base64");
      return ok
        ? { status: 200, headers: { "content-type": "application/json" }, body: { access_token: "at", token_type: "bearer", expires_in: 3600 } }
        : { status: 401, headers: { "content-type": "application/json" }, body: { error: "invalid_client" } };
    }
    if (req.path.endsWith("/apiKey.info")) {
      return ashbyKeyOk
        ? { status: 200, headers: { "content-type": "application/json" }, body: { success: true, results: { title: "bridge" } } }
        : { status: 401, headers: { "content-type": "application/json" }, body: { success: false, errorInfo: { code: "invalid_key", message: "bad key" } } };
    }
    return { status: 200, headers: { "content-type": "application/json" }, body: { success: true, results: {} } };
  });
  recruitee = await startReceiver(() => ({ status: 200, headers: { "content-type": "application/json" }, body: { report: {} } }));
  w = await startWorker({ vars: { RETRY_SCHEDULE: "1,1", ASHBY_API_BASE: ashby.url, HARVEST_TOKEN_URL: `${ashby.url}/token`,
    RECRUITEE_API_BASE: `${recruitee.url}/api`, RECRUITEE_PARTNER_CODENAME: "vendorco", RECRUITEE_PARTNER_SECRET: "rt-secret-browser" } });
  profile = mkdtempSync(join(tmpdir(), "ats-bridge-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 },
  });
  // Record CSP violations from inside each page (the event fires for every blocked load).
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  context.setDefaultTimeout(10_000);
  page = await newPage();
});

after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await Promise.all([w?.stop(), hooks?.close(), ashby?.close(), recruitee?.close()]);
});

async function assertNoCspViolations(p) {
  assert.deepEqual(await p.evaluate(() => window.__csp), [], `CSP violations on ${p.url()}`);
}

test("sign-in: a wrong token is refused; the right one is kept in session storage, never in a URL", async () => {
  await page.goto(`${w.url}/console`);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await shot(page, "01-sign-in");
  await page.getByLabel("Admin token").fill("not-the-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: /token|unauthori/i }).waitFor();
  problems.length = 0; // the refused sign-in's 401 is logged by the browser as a failed load
  await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Tenants" }).waitFor();
  assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), "ats-bridge.admin-token"), ADMIN_TOKEN);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  assert.ok(!page.url().includes(ADMIN_TOKEN));
  // Still signed in after a reload (same tab), and a fresh tab is not.
  await page.reload();
  await page.getByRole("heading", { name: "Tenants" }).waitFor();
  const other = await newPage();
  await other.goto(`${w.url}/console`);
  await other.getByRole("heading", { name: "Sign in" }).waitFor();
  await other.close();
  // A token that stops working (rotated) signs the tab out instead of failing every screen.
  await page.evaluate(() => sessionStorage.setItem("ats-bridge.admin-token", "rotated-away"));
  await page.reload();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  problems.length = 0; // that 401 is logged by the browser as a failed load
  // Keyboard only: focus starts on the screen's heading, Tab reaches the labelled field, Enter signs in.
  await until(async () => (await page.evaluate(() => document.activeElement?.tagName)) === "H1", 5000, "focus on the heading");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement?.labels?.[0]?.textContent), "Admin token");
  await page.keyboard.type(ADMIN_TOKEN);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Tenants" }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Tenants", "focus moves to the new screen's heading");
  await assertNoCspViolations(page);
});

test("tenant creation: the form creates the tenant, shows the signing secret once, and search finds it", async () => {
  await page.getByLabel("Tenant id", { exact: true }).fill("acme-web");
  await page.getByLabel("Name", { exact: true }).fill("Acme Web");
  await page.getByLabel("Webhook URL", { exact: true }).fill(`${hooks.url}/hook`);
  await page.getByRole("button", { name: "Create tenant" }).click();
  const secret = page.getByRole("textbox", { name: "Webhook signing secret", exact: true });
  await secret.waitFor();
  assert.match(await secret.inputValue(), /^whsec_/);
  const t = await admin(w, "GET", "/v1/tenants/acme-web");
  assert.equal(t.status, 200);
  assert.equal(t.body.name, "Acme Web");
  await page.getByLabel("Search by tenant id").fill("acme-w");
  await page.getByRole("link", { name: "acme-web", exact: true }).waitFor();
  await page.getByLabel("Search by tenant id").fill("zzz");
  await page.getByText("No tenants starting with “zzz”").waitFor();
  await page.getByLabel("Search by tenant id").fill("");
  await page.getByRole("link", { name: "acme-web", exact: true }).waitFor();
  await shot(page, "02-tenants");
  await page.getByRole("link", { name: "acme-web", exact: true }).click();
  await page.getByRole("heading", { name: /Acme Web/ }).waitFor();
  // Credential fields come from the registry through the tenant view; saving goes through PATCH.
  await page.getByLabel("greenhouse partner username", { exact: true }).fill("gh-partner");
  await page.getByLabel("greenhouse partner password", { exact: true }).fill("gh-secret");
  await page.getByRole("button", { name: "Save credentials" }).click();
  await until(async () => (await admin(w, "GET", "/v1/tenants/acme-web")).body.greenhouse?.partner_password_set === true, 10_000, "credentials saved");
  assert.equal((await admin(w, "GET", "/v1/tenants/acme-web")).body.greenhouse.partner_username, "gh-partner");
  await page.getByText("Set. Type a new value to replace it.").waitFor();
  assert.equal(await page.getByLabel("greenhouse partner password", { exact: true }).inputValue(), "", "a secret is never shown back");
  await shot(page, "03-tenant-overview");
  // Readable on a phone: nothing wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), "no horizontal scroll at 390 px");
  await shot(page, "03b-tenant-overview-phone");
  await page.setViewportSize({ width: 1280, height: 900 });
});

test("key rotation: issue, rotate with a grace period (both keys work), rotate without (old key dead), revoke", async () => {
  await page.getByRole("link", { name: "Keys" }).click();
  await page.getByRole("button", { name: "Issue greenhouse key" }).click();
  const keyField = page.getByRole("textbox", { name: "greenhouse key", exact: true });
  await keyField.waitFor();
  const first = await keyField.inputValue();
  assert.match(first, /^gh_/);
  assert.equal((await edge(w, "acme-web", "greenhouse", "list_tests", { key: first })).status, 200);

  await page.getByLabel(/Old key keeps working/).fill("600");
  await page.getByRole("button", { name: "Rotate greenhouse key" }).click();
  await until(async () => (await keyField.inputValue()) !== first, 10_000, "a new key");
  const second = await keyField.inputValue();
  await page.getByText(/The previous key works until/).waitFor();
  assert.equal((await edge(w, "acme-web", "greenhouse", "list_tests", { key: first })).status, 200, "old key inside its grace period");
  assert.equal((await edge(w, "acme-web", "greenhouse", "list_tests", { key: second })).status, 200);
  await shot(page, "04-keys");

  await page.getByLabel(/Old key keeps working/).fill("0");
  await page.getByRole("button", { name: "Rotate greenhouse key" }).click();
  await until(async () => (await keyField.inputValue()) !== second, 10_000, "a third key");
  const third = await keyField.inputValue();
  assert.equal((await edge(w, "acme-web", "greenhouse", "list_tests", { key: second })).status, 401, "rotated without grace: dead at once");
  assert.equal((await edge(w, "acme-web", "greenhouse", "list_tests", { key: third })).status, 200);

  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Revoke" }).click();
  await page.getByRole("button", { name: "Issue greenhouse key" }).waitFor();
  assert.equal((await edge(w, "acme-web", "greenhouse", "list_tests", { key: third })).status, 401, "revoked");
  // A key for the order tests below.
  await page.getByRole("button", { name: "Issue greenhouse key" }).click();
  await keyField.waitFor();
});

let ghKey;
test("an order appears: filters, full detail with its event and attempts, and a test result posted", async () => {
  ghKey = await page.getByRole("textbox", { name: "greenhouse key", exact: true }).inputValue();
  await admin(w, "PUT", "/v1/tenants/acme-web/packages", fixture("packages.json"));
  const body = { ...fixture("greenhouse/send_test.json"), url: `${hooks.url}/integrations/testing_partners/take_home_tests/1` };
  const o = await edge(w, "acme-web", "greenhouse", "send_test", { key: ghKey, body });
  assert.equal(o.status, 200, o.text);
  await hooks.waitFor(1);

  await page.getByRole("link", { name: "Assessments" }).click();
  await page.getByRole("link", { name: "John Doe" }).waitFor();
  await page.getByLabel("Status", { exact: true }).selectOption("COMPLETED");
  await page.getByText("No assessments match.").waitFor();
  await page.getByLabel("Status", { exact: true }).selectOption("");
  await page.getByLabel("Provider", { exact: true }).selectOption("greenhouse");
  await page.getByRole("link", { name: "John Doe" }).waitFor();
  await shot(page, "05-assessments");

  await page.getByRole("link", { name: "John Doe" }).click();
  await page.getByRole("heading", { name: "John Doe" }).waitFor();
  await page.getByText(o.body.partner_interview_id).first().waitFor();
  const ev = page.getByRole("button", { name: /record\.new/ });
  await ev.click();
  const attempts = page.getByRole("table", { name: /Attempts of/ });
  await attempts.waitFor();
  const row = attempts.locator("tbody tr").first();
  assert.match(await row.innerText(), /200\s+\d+ ms/);

  await page.getByLabel("Status", { exact: true }).selectOption("STARTED");
  await page.getByRole("button", { name: "Post result" }).click();
  await page.getByText("Result stored and queued for the ATS.").waitFor();
  await page.getByRole("button", { name: /record\.modified/ }).waitFor();
  const a = await admin(w, "GET", `/v1/tenants/acme-web/assessments/${o.body.partner_interview_id}`);
  assert.equal(a.body.status, "STARTED");
  await shot(page, "06-assessment-detail");
});

test("failed deliveries: one replayed from the list, then the rest with replay all", async () => {
  hooks.setScript(() => ({ status: 400, body: "nope" })); // refused: retried per RETRY_SCHEDULE ("1,1"), then failed
  const before = hooks.requests.length;
  for (const n of [2, 3]) {
    const body = { ...fixture("greenhouse/send_test.json"), url: `${hooks.url}/integrations/testing_partners/take_home_tests/${n}` };
    assert.equal((await edge(w, "acme-web", "greenhouse", "send_test", { key: ghKey, body })).status, 200);
  }
  await until(async () => (await admin(w, "GET", "/v1/tenants/acme-web/events?state=failed")).body.data.length === 2, 20_000, "two failed events");
  hooks.setScript(() => ({ status: 200 }));

  await page.goto(`${w.url}/console#/t/acme-web/deliveries`);
  const replayButtons = page.getByRole("button", { name: /^Replay evt_/ });
  await until(async () => (await replayButtons.count()) === 2, 10_000, "two failed events listed");
  await shot(page, "07-deliveries-failed");
  const failed = (await admin(w, "GET", "/v1/tenants/acme-web/events?state=failed")).body.data;
  const oldest = failed[failed.length - 1].eventId;
  await page.getByRole("button", { name: `Replay ${oldest}` }).click();
  await until(async () => (await admin(w, "GET", `/v1/tenants/acme-web/events/${oldest}`)).body.state === "delivered", 15_000, "the replayed event delivered");
  const redelivered = hooks.requests.slice(before).filter((r) => r.headers["webhook-id"] === oldest);
  assert.ok(redelivered.length >= 2, "the replay reached the receiver with the same webhook-id");
  await until(async () => (await replayButtons.count()) === 1, 10_000, "the list refreshed");

  await page.getByRole("button", { name: "Replay all failed" }).click();
  await page.getByText("1 failed event queued again.").waitFor();
  await until(async () => (await admin(w, "GET", "/v1/tenants/acme-web/events?state=failed")).body.data.length === 0, 20_000, "no failed events");
  await until(async () => (await admin(w, "GET", `/v1/tenants/acme-web/events/${failed[0].eventId}`)).body.state === "delivered", 20_000, "the last one delivered");
  await page.getByRole("button", { name: "Refresh" }).click();
  await page.getByText("No failed events.").waitFor();
});

let linkUrl;
test("webhook endpoints are listed on the deliveries screen, without their secrets", async () => {
  const created = await admin(w, "POST", "/v1/tenants/acme-web/webhooks", { url: `${hooks.url}/results`, event_types: ["record.modified"], description: "Results service" });
  assert.equal(created.status, 201, created.text);
  // From another screen, so the deliveries screen mounts afresh and reads the endpoints.
  await page.goto(`${w.url}/console#/t/acme-web/overview`);
  await page.getByRole("link", { name: "Deliveries" }).click();
  await page.getByRole("heading", { name: "Webhook endpoints" }).waitFor();
  const row = page.getByRole("row", { name: new RegExp(created.body.id) });
  await row.waitFor();
  const text = await row.innerText();
  assert.match(text, /Results service/);
  assert.match(text, /record\.modified/);
  assert.match(text, /enabled/);
  assert.ok(text.includes(`${hooks.url}/results`));
  assert.ok(!(await page.content()).includes(created.body.secret), "the endpoint's secret is never shown");
  await shot(page, "07b-webhook-endpoints");
  assert.equal((await admin(w, "DELETE", `/v1/tenants/acme-web/webhooks/${created.body.id}`)).status, 204);
});

test("a connect link used end to end: created in the console, key shown once, Ashby key checked, connected", async () => {
  await page.goto(`${w.url}/console#/t/acme-web/connect`);
  await page.getByLabel("ATS", { exact: true }).selectOption("ashby");
  await page.getByRole("button", { name: "Create link" }).click();
  const link = page.getByRole("textbox", { name: "Connect link", exact: true });
  await link.waitFor();
  linkUrl = await link.inputValue();
  assert.match(linkUrl, new RegExp(`^${w.url}/connect/acme-web/[A-Za-z0-9_-]{43}$`));
  const listed = await admin(w, "GET", "/v1/tenants/acme-web/connect-links");
  assert.ok(!listed.text.includes(linkUrl.split("/").pop()), "the list never holds the token");
  await shot(page, "08-connect-links");

  const customer = await newPage();
  await customer.setViewportSize({ width: 390, height: 844 }); // a phone
  const resp = await customer.goto(linkUrl);
  assert.equal(resp.status(), 200);
  await customer.getByRole("heading", { name: "Connect Ashby" }).waitFor();
  assert.equal(await customer.getByRole("textbox", { name: "Base URL", exact: true }).inputValue(), `${w.url}/t/acme-web/ashby`);
  const key = await customer.getByRole("textbox", { name: "API key", exact: true }).inputValue();
  assert.match(key, /^ab_/);
  const text = await customer.locator("body").innerText();
  assert.ok(!/whsec_/.test(text), "never a webhook secret");
  assert.ok(!text.includes("acme-other"), "never another tenant");
  // The key the page issued works at Ashby's edge URL.
  const list = await edge(w, "acme-web", "ashby", "assessment.list", { key, body: {} });
  assert.equal(list.status, 200, list.text);
  await shot(customer, "09-connect-page-phone");

  // A wrong Ashby key is refused with Ashby's verdict; a good one connects.
  ashbyKeyOk = false;
  await customer.getByLabel(/Ashby API key/).fill("wrong-key");
  await customer.getByRole("button", { name: "Check and connect" }).click();
  await customer.getByRole("alert").filter({ hasText: "did not accept" }).waitFor();
  problems.length = 0; // the refused check's 422 is logged by the browser as a failed load
  ashbyKeyOk = true;
  await customer.getByLabel(/Ashby API key/).fill("ashby-good-key");
  await customer.getByRole("button", { name: "Check and connect" }).click();
  await customer.getByRole("heading", { name: /Connected/ }).waitFor();
  await shot(customer, "10-connect-connected-phone");
  const check = ashby.requests.filter((r) => r.path.endsWith("/apiKey.info")).pop();
  assert.equal(check.headers.authorization, "Basic " + Buffer.from("ashby-good-key:").toString("base64"));
  assert.equal((await admin(w, "GET", "/v1/tenants/acme-web")).body.ashby.api_key_set, true);

  // Opening the link again: still connected, the key is not shown again, and the page says the
  // link is used (a new link is how the credentials change); its API refuses new credentials.
  await customer.reload();
  await customer.getByRole("heading", { name: /Connected/ }).waitFor();
  const reopened = await customer.locator("body").innerText();
  assert.ok(!reopened.includes(key));
  assert.match(reopened, /This link has already been used\. To change the credentials, ask the vendor who sent it for a new link\./);
  assert.equal(await customer.getByRole("button", { name: "Check and connect" }).count(), 0, "no form on a used link");
  const reused = await fetch(`${linkUrl}/complete`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ api_key: "ashby-other-key" }) });
  assert.equal(reused.status, 409);
  assert.equal((await reused.json()).error.code, "connect_link_used");
  await shot(customer, "10b-connect-link-used-phone");
  const again = await fetch(`${linkUrl}/session`, { method: "POST", body: "{}" });
  assert.equal((await again.json()).key.value, null);
  await assertNoCspViolations(customer);
  await customer.close();

  // The console shows the link connected.
  await page.getByRole("link", { name: "Keys" }).click();
  await page.getByRole("link", { name: "Connect links" }).click();
  await page.getByRole("cell", { name: "connected" }).waitFor();
});

test("a revoked connect link is refused with a 404 page that says so", async () => {
  await page.getByLabel("ATS", { exact: true }).selectOption("greenhouse");
  await page.getByRole("button", { name: "Create link" }).click();
  const url = await until(async () => {
    const v = await page.getByRole("textbox", { name: "Connect link", exact: true }).inputValue();
    return v !== linkUrl && v;
  }, 10_000, "a second link");
  const customer = await newPage();
  assert.equal((await customer.goto(url)).status(), 200);
  await customer.getByRole("heading", { name: "Connect Greenhouse" }).waitFor();
  assert.equal(await customer.getByRole("textbox", { name: "Send test URL", exact: true }).inputValue(), `${w.url}/t/acme-web/greenhouse/send_test`);

  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: /^Revoke cl_/ }).first().click();
  await until(async () => (await admin(w, "GET", "/v1/tenants/acme-web/connect-links")).body.data.some((l) => l.state === "revoked"), 10_000, "revoked");

  const gone = await customer.goto(url);
  assert.equal(gone.status(), 404);
  await customer.getByRole("heading", { name: "This link no longer works" }).waitFor();
  problems.length = 0; // the 404 document itself is logged as a failed load
  await shot(customer, "11-connect-revoked");
  const api = await fetch(`${url}/session`, { method: "POST", body: "{}" });
  assert.equal(api.status, 404);
  assert.equal((await api.json()).error.code, "connect_link_not_found");
  // A made-up token for a real tenant is refused the same way.
  assert.equal((await fetch(`${w.url}/connect/acme-web/${"A".repeat(43)}`)).status, 404);
  await customer.close();
});

test("a Greenhouse connect link takes Harvest v3 credentials, checked with Greenhouse; the console shows Harvest configured, never the secret", async () => {
  await admin(w, "POST", "/v1/tenants", { id: "acme-harvest", name: "Acme Harvest", webhook: { url: `${hooks.url}/harvest` } });
  const link = (await admin(w, "POST", "/v1/tenants/acme-harvest/connect-links", { provider: "greenhouse" })).body;
  const customer = await newPage();
  await customer.goto(link.url);
  await customer.getByRole("heading", { name: "Connect Greenhouse" }).waitFor();
  assert.match(await customer.getByRole("textbox", { name: "API key", exact: true }).inputValue(), /^gh_/);
  // The Harvest fields are optional, labelled, and the secret one is masked.
  const secret = customer.getByLabel(/Harvest v3 client secret/);
  assert.equal(await secret.getAttribute("type"), "password");
  assert.equal(await customer.getByLabel(/Harvest v3 client ID/).getAttribute("required"), null);
  await customer.getByLabel(/Harvest v3 client ID/).fill("hv-web");
  await secret.fill("wrong-secret");
  await customer.getByLabel(/Greenhouse user ID/).fill("4711");
  await customer.getByRole("button", { name: "Check and connect" }).click();
  await customer.getByRole("alert").filter({ hasText: "refused the Harvest v3 client credentials" }).waitFor();
  problems.length = 0; // the refused check's 422 is logged by the browser as a failed load
  await secret.fill("hv-good-secret");
  await customer.getByRole("button", { name: "Check and connect" }).click();
  await customer.getByRole("heading", { name: /Connected/ }).waitFor();
  await shot(customer, "12-connect-greenhouse-harvest");
  const check = ashby.requests.filter((r) => r.path === "/token").pop();
  assert.equal(check.headers.authorization, "Basic " + Buffer.from("hv-web:hv-good-secret").toString("base64"));
  assert.equal(check.body, "grant_type=client_credentials&sub=4711");
  await assertNoCspViolations(customer);
  await customer.close();

  await page.goto(`${w.url}/console#/t/acme-harvest`);
  const creds = page.getByRole("definition").filter({ hasText: "harvest: set" });
  await creds.waitFor();
  assert.ok(!(await page.locator("body").innerText()).includes("hv-good-secret"));
  await shot(page, "13-console-harvest-configured");
});

test("a Recruitee cancel link opened in the browser asks first; its button cancels the assessment", async () => {
  await createTenant(w, "browser-rc", hooks.url);
  const { secretKey } = await createKey(w, "browser-rc", "recruitee");
  const order = { ...fixture("recruitee/send_candidate.json"), report_id: randomUUID() };
  const placed = await fetch(`${w.url}/p/recruitee/send_candidate`, { method: "POST",
    headers: { authorization: `Bearer ${secretKey}`, "content-type": "application/json" }, body: JSON.stringify(order) });
  assert.equal(placed.status, 200);
  const id = (await placed.json()).assessment_id;
  // The bridge hands Recruitee the report's cancel link; a recruiter opens it from there.
  const reqs = await recruitee.waitFor(0, 15_000, (rs) => rs.some((q) => q.path.endsWith(`/reports/${order.report_id}`)));
  const link = JSON.parse(reqs.find((q) => q.path.endsWith(`/reports/${order.report_id}`)).body).urls.cancel;
  const status = async () => (await admin(w, "GET", `/v1/tenants/browser-rc/assessments/${id}`)).body.status;

  const p = await newPage();
  await p.goto(link);
  await p.getByRole("heading", { name: "Cancel this assessment?" }).waitFor();
  await shot(p, "cancel-link-confirm");
  assert.equal(await status(), "NOT_SPECIFIED", "opening the link cancels nothing");
  await p.getByRole("button", { name: "Cancel the assessment" }).press("Enter"); // by keyboard
  await p.getByRole("heading", { name: "The assessment is canceled" }).waitFor();
  await shot(p, "cancel-link-done");
  assert.equal(await status(), "CANCELLED");
  await assertNoCspViolations(p);
  const csp = (await p.context().request.get(link)).headers()["content-security-policy"];
  assert.match(csp, /form-action 'self'/);

  // Opened again now that the assessment is final: the page says so and has no button.
  await p.goto(link);
  await p.getByRole("heading", { name: "The assessment is already canceled" }).waitFor();
  assert.equal(await p.getByRole("button").count(), 0, "no cancel button on a final assessment");
  await assertNoCspViolations(p);

  // An altered link asks too (its token names no assessment), and its button says the link
  // does not work.
  await p.goto(link.replace(/.$/, (c) => (c === "A" ? "B" : "A")));
  await p.getByRole("button", { name: "Cancel the assessment" }).click();
  await p.getByRole("heading", { name: "This cancel link does not work" }).waitFor();
  await assertNoCspViolations(p);
  // The browser logs that 401 document as a failed load; nothing else may have been logged.
  const expected = problems.filter((m) => /status of 401/.test(m) && m.includes("/p/recruitee/cancel?token="));
  assert.equal(expected.length, 1, JSON.stringify(problems));
  problems.splice(problems.indexOf(expected[0]), 1);
  await p.close();
});

test("a Recruitee cancel link opened on an assessment already completed says so, with no cancel button", async () => {
  await createTenant(w, "browser-rc-final", hooks.url);
  const { secretKey } = await createKey(w, "browser-rc-final", "recruitee");
  const order = { ...fixture("recruitee/send_candidate.json"), report_id: randomUUID() };
  const placed = await fetch(`${w.url}/p/recruitee/send_candidate`, { method: "POST",
    headers: { authorization: `Bearer ${secretKey}`, "content-type": "application/json" }, body: JSON.stringify(order) });
  assert.equal(placed.status, 200);
  const id = (await placed.json()).assessment_id;
  const reqs = await recruitee.waitFor(0, 15_000, (rs) => rs.some((q) => q.path.endsWith(`/reports/${order.report_id}`)));
  const link = JSON.parse(reqs.find((q) => q.path.endsWith(`/reports/${order.report_id}`)).body).urls.cancel;
  const done = await admin(w, "POST", `/v1/tenants/browser-rc-final/assessments/${id}/result`, fixture("result.completed.json"));
  assert.equal(done.status, 200, done.text);

  const p = await newPage();
  await p.goto(link);
  await p.getByRole("heading", { name: "This assessment is already completed" }).waitFor();
  assert.match(await p.locator("main").innerText(), /can no longer be canceled/);
  assert.equal(await p.getByRole("button").count(), 0, "no cancel button");
  await shot(p, "cancel-link-final");
  await assertNoCspViolations(p);
  assert.equal((await admin(w, "GET", `/v1/tenants/browser-rc-final/assessments/${id}`)).body.status, "COMPLETED", "opening changes nothing");
  await p.close();
});

test("a malformed location hash shows the tenant list instead of throwing URIError", async () => {
  const errors = [];
  const onError = (e) => errors.push(e.message);
  page.on("pageerror", onError);
  try {
    for (const hash of ["#/t/%E0%A4%A", "#/t/acme-web/%ZZ", "#/t/%/assessments/x", "#/%C3%28"]) {
      await page.goto(`${w.url}/console#/`);
      await page.getByRole("heading", { name: "Tenants" }).waitFor();
      await page.evaluate((h) => { location.hash = h; }, hash);
      await page.getByRole("heading", { name: "Tenants" }).waitFor();
      // A fresh load with the malformed hash too (the first route is parsed at start).
      await page.goto(`${w.url}/console${hash}`);
      await page.getByRole("heading", { name: "Tenants" }).waitFor();
      assert.deepEqual(errors, [], `page errors after ${hash}`);
    }
    // A well-formed escaped tenant id still opens that tenant.
    await page.goto(`${w.url}/console#/t/${encodeURIComponent("acme-web")}/overview`);
    await page.getByRole("heading", { name: /Acme Web/ }).waitFor();
  } finally {
    page.off("pageerror", onError);
  }
  assert.deepEqual(errors, []);
});

test("the Content-Security-Policy holds: strict headers, inline script blocked, no errors or violations", async () => {
  for (const path of ["/console", "/console/app.js", "/console/app.css", "/connect/app.js", linkUrl.slice(w.url.length)]) {
    const r = await fetch(`${w.url}${path}`);
    const csp = r.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/, path);
    assert.match(csp, /script-src 'self'(;|$)/, path);
    assert.match(csp, /frame-ancestors 'none'/, path);
    assert.doesNotMatch(csp, /unsafe/, path);
    assert.equal(r.headers.get("x-content-type-options"), "nosniff", path);
    assert.equal(r.headers.get("referrer-policy"), "no-referrer", path);
    assert.equal(r.headers.get("x-frame-options"), "DENY", path);
  }
  // The OpenAPI document is not reachable through the page routes, only behind the token.
  assert.equal((await fetch(`${w.url}/console/openapi.json`)).status, 404);
  assert.equal((await fetch(`${w.url}/v1/openapi.json`)).status, 401);

  await page.goto(`${w.url}/console#/`);
  await page.getByRole("heading", { name: "Tenants" }).waitFor();
  await assertNoCspViolations(page);
  assert.deepEqual(problems, [], "no console errors or warnings in the whole run");

  // The policy really blocks inline code.
  await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.__inlineRan = true";
    document.body.appendChild(s);
  });
  assert.equal(await page.evaluate(() => window.__inlineRan), undefined);
  await until(async () => (await page.evaluate(() => window.__csp)).some((v) => v.startsWith("script-src")), 5000, "the violation report");
});
