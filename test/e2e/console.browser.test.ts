import assert from 'node:assert/strict';
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { consoleDistDir } from '../../src/apps/console.ts';
import type { Envelope } from '../../src/platform/messaging/index.ts';
import { eventually, startFulfilment, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

// The operations console in a real headless Chromium (Debian's `chromium`) against the real single
// process on a real port: what an operator sees, with its content policy, its accessibility and its
// session handling checked on every page. Screenshots land in .data/console-screenshots (not committed).

/** Chromium on PATH (or CHROMIUM_PATH), or why there is none. */
function findChromium(): string | undefined {
  const candidates = process.env.CHROMIUM_PATH === undefined
    ? (process.env.PATH ?? '').split(path.delimiter).flatMap((folder) => ['chromium', 'chromium-browser'].map((name) => path.join(folder, name)))
    : [process.env.CHROMIUM_PATH];
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const chromiumPath = findChromium();
const built = (() => { try { accessSync(path.join(consoleDistDir, 'index.html')); return true; } catch { return false; } })();
const missing = chromiumPath === undefined ? 'chromium is not on PATH (apt-get install chromium)' : built ? undefined : 'console/dist is not built (npm run build:console)';
if (missing !== undefined && process.env.REQUIRE_SERVICES === '1') throw new Error(`The console browser tests cannot run (REQUIRE_SERVICES=1): ${missing}`);
if (missing !== undefined) console.log(`skipping the console browser tests: ${missing}`);

const screenshots = path.resolve(import.meta.dirname, '../../.data/console-screenshots');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const users = { admin: { email: '', password: '' }, customer: { email: '', password: '' } };

let harness: FulfilmentHarness;
let baseUrl: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** Everything the page reported that it should not have: console errors, uncaught errors, content-policy violations. */
const problems: string[] = [];
/** Refusals the tests provoke on purpose (Chromium logs every 4xx answer as a console error): `status url`. */
const provoked = new Set<string>();
/** The order the tests place, follow, cancel and restock. */
let orderId = '';
/**
 * A consumer of the orders module that fails on purpose while `refusing`: the confirmation of the
 * tests' order fails through every attempt into the dead letters, and once it accepts again, a
 * replay from the console is handled.
 */
const check = { refusing: true, handled: [] as string[] };

before(async () => {
  if (missing !== undefined) return;
  mkdirSync(screenshots, { recursive: true });
  harness = await startFulfilment({ DEV_IDENTITY_HEADERS: 'false', SIMULATED_PAYMENT_DELAY_MS: '200' }, { registerWebhook: false });
  harness.orderstream.messaging.register({
    name: 'orders.console-check', types: ['orders.confirmed'],
    handle: (envelope: Envelope) => {
      if (check.refusing) return Promise.reject(new Error('the check failed on purpose'));
      check.handled.push(envelope.key);
      return Promise.resolve();
    },
  });
  baseUrl = (await harness.orderstream.app.listen({ host: '127.0.0.1', port: 0 })).replace(/\/$/, '');
  const seeded = await harness.orderstream.identity.seedDemoUsers();
  Object.assign(users, seeded);
  await seedProducts();
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'], timeout: 30_000 });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  // Run before any of the page's own scripts, by the browser (not inline in the page): reports violations.
  // Browser code is given as text here and below: this file is type-checked for Node, without the DOM.
  await context.addInitScript({
    content: "document.addEventListener('securitypolicyviolation', (event) => { console.error('CSP violation: ' + event.violatedDirective + ' ' + event.blockedURI); });",
  });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const status = /status of (\d{3})/.exec(message.text())?.[1];
    if (status !== undefined && provoked.has(`${status} ${message.location().url}`)) return;
    problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => { problems.push(`page error: ${error.message}`); });
});

after(async () => {
  if (missing !== undefined) return;
  await browser.close();
  await harness.close();
});

/** An admin's access token for the API calls the tests make beside the browser. */
let adminToken = '';

async function seedProducts(): Promise<void> {
  const login = await harness.orderstream.app.inject({ method: 'POST', url: '/v1/auth/login', payload: users.admin });
  const token = login.json<{ accessToken: string }>().accessToken;
  adminToken = token;
  for (const [sku, name, amount, currency] of [['CON-MUG', 'Console mug', 1299, 'EUR'], ['CON-YEN', 'Console teapot', 4500, 'JPY']] as const) {
    const created = await harness.orderstream.app.inject({ method: 'POST', url: '/v1/products', headers: { authorization: `Bearer ${token}` }, payload: { sku, name, description: '', price: { amount, currency } } });
    assert.equal(created.statusCode, 201, created.body);
    const stocked = await harness.orderstream.app.inject({ method: 'PUT', url: `/v1/inventory/${sku}`, headers: { authorization: `Bearer ${token}` }, payload: { onHand: sku === 'CON-MUG' ? 10 : 3 } });
    assert.equal(stocked.statusCode, 200, stocked.body);
  }
}

/** Stock as the API reports it to an admin. */
async function stockOf(sku: string): Promise<{ sku: string; onHand: number; reserved: number; available: number }> {
  const response = await harness.orderstream.app.inject({ method: 'GET', url: `/v1/inventory/${sku}`, headers: { authorization: `Bearer ${adminToken}` } });
  assert.equal(response.statusCode, 200, response.body);
  return response.json();
}

/** A customer's order placed through the API with their own token, as a shop would. */
async function placeCustomerOrder(): Promise<string> {
  const login = await harness.orderstream.app.inject({ method: 'POST', url: '/v1/auth/login', payload: users.customer });
  const token = login.json<{ accessToken: string }>().accessToken;
  const placed = await harness.orderstream.app.inject({
    method: 'POST', url: '/v1/orders', headers: { authorization: `Bearer ${token}`, 'idempotency-key': crypto.randomUUID() },
    payload: { items: [{ sku: 'CON-MUG', quantity: 2 }], payment: { token: 'tok_visa' } },
  });
  assert.equal(placed.statusCode, 202, placed.body);
  return placed.json<{ id: string }>().id;
}

/** An accessibility scan of the page as it is: no serious or critical violation. */
async function assertAccessible(name: string): Promise<void> {
  // Evaluated through the browser's debugging protocol, which the content policy does not govern.
  if (await page.evaluate('typeof window.axe') === 'undefined') await page.evaluate(axeSource);
  const violations = await page.evaluate<string[]>(`window.axe.run(document).then((result) => result.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => violation.id + ' (' + violation.impact + ') at ' + JSON.stringify(violation.nodes.map((node) => node.target))))`);
  assert.deepEqual(violations, [], `accessibility of ${name}`);
}

/** Screenshots at laptop and phone width, then back to laptop width. */
async function capture(name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshots, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  await assertAccessible(`${name} at 375 px`);
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
  const wide = overflow <= 0 ? [] : await page.evaluate<string[]>(`[...document.querySelectorAll('body *')]
    .filter((element) => element.getBoundingClientRect().right > document.documentElement.clientWidth)
    .slice(0, 8).map((element) => element.tagName.toLowerCase() + '.' + element.className)`);
  assert.ok(overflow <= 0, `${name} scrolls sideways by ${overflow} px at 375 px: ${wide.join(', ')}`);
  await page.screenshot({ path: path.join(screenshots, `${name}-375.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function signIn(account: { email: string; password: string }): Promise<void> {
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function goTo(link: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Console pages' }).getByRole('link', { name: link }).click();
  await page.getByRole('heading', { level: 1, name: link }).waitFor();
}

describe('the operations console in a browser', { skip: missing }, () => {
  test('when a customer signs in, then the console refuses them plainly and keeps no session', async () => {
    const response = await page.goto(`${baseUrl}/console`);
    assert.equal(response?.status(), 200);
    await page.getByRole('heading', { name: 'OrderStream console' }).waitFor();
    await assertAccessible('sign-in');
    await capture('sign-in');
    await signIn(users.customer);
    await page.getByRole('alert').filter({ hasText: 'is not an administrator' }).waitFor();
    assert.deepEqual((await context.cookies()).filter((cookie) => cookie.name === 'orderstream_refresh' && cookie.value !== ''), []);
  });

  test('when the admin signs in, then the overview is the landing page, with a chart per series', async () => {
    await page.getByLabel('Email').fill('');
    await signIn(users.admin);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/console');
    await page.getByRole('img', { name: /Placed orders per minute/ }).waitFor();
    assert.equal(await page.locator('svg.chart').count(), 3);
    await page.getByText(/None: every message was handled/).waitFor();
    await assertAccessible('overview (empty)');
  });

  test('when the products page is opened, then it lists the catalogue with prices in their currencies', async () => {
    await goTo('Products');
    const table = page.getByRole('table');
    await table.getByText('CON-MUG').waitFor();
    const text = await table.innerText();
    assert.match(text, /Console mug/);
    assert.match(text, /12[.,]99/, 'EUR in minor units shown with two decimals');
    assert.match(text, /4,?500/, 'JPY has no minor units');
    await assertAccessible('products');
    await capture('products');
  });

  test('when the page is reloaded, then the admin stays signed in through the refresh cookie and no token is in web storage', async () => {
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Products' }).waitFor();
    const cookie = (await context.cookies()).find((candidate) => candidate.name === 'orderstream_refresh');
    assert.ok(cookie !== undefined && cookie.httpOnly && cookie.sameSite === 'Strict' && cookie.path === '/v1/auth', JSON.stringify(cookie));
    const stored = await page.evaluate<string>('JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])');
    assert.doesNotMatch(stored, /eyJ|[A-Za-z0-9_-]{40,}/, `web storage holds no token: ${stored}`);
    assert.ok(!stored.includes(cookie.value));
  });

  test('when a CSV with one bad row is uploaded, then progress runs to the end and the error report downloads', async () => {
    await goTo('Imports');
    await page.getByText(/No jobs yet/).waitFor();
    await assertAccessible('imports (empty)');
    const csv = 'sku,name,description,price,currency,stock\nCON-A,Alpha,,100,EUR,5\nCON-B,Beta,,-3,EUR,5\nCON-C,Gamma,,300,EUR,5\n';
    await page.getByLabel(/Catalogue CSV/).setInputFiles({ name: 'catalogue.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Upload and import' }).click();
    const job = page.locator('section.job');
    await job.getByText('Status: succeeded').waitFor({ timeout: 60_000 });
    assert.equal(await job.getByRole('progressbar').getAttribute('value'), '3');
    assert.match(await job.locator('dl').innerText(), /Created\s*2[\s\S]*Rejected\s*1/);
    const [download] = await Promise.all([page.waitForEvent('download'), job.getByRole('button', { name: /Download the error report/ }).click()]);
    const report = readFileSync(await download.path(), 'utf8');
    assert.match(report, /CON-B|price/, report);
    await page.getByRole('table', { name: 'Recent jobs' }).or(page.getByRole('region', { name: 'Recent jobs', exact: true })).getByText('succeeded').waitFor();
    await assertAccessible('imports');
    await capture('imports');
  });

  test('when a customer places an order through the API, then it appears in the orders list and turns CONFIRMED without a reload', async () => {
    await goTo('Orders');
    await page.getByText(/No orders yet/).waitFor();
    await assertAccessible('orders (empty)');
    // A full load would drop this mark: the list must change in the page itself.
    await page.evaluate("window.consoleMark = 'kept'");
    orderId = await placeCustomerOrder();
    const row = page.getByRole('row').filter({ hasText: orderId });
    await row.waitFor();
    await row.getByText('CONFIRMED', { exact: true }).waitFor({ timeout: 60_000 });
    assert.equal(await page.evaluate('window.consoleMark'), 'kept', 'no reload');
    assert.match(await row.innerText(), new RegExp(`${users.customer.email}[\\s\\S]*25[.,]98`), 'the customer email and the EUR total');
    await page.getByLabel('Status').selectOption('CANCELLED');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText(/No orders match these filters/).waitFor();
    await page.getByLabel('Status').selectOption('');
    await page.getByLabel('Customer email').fill(users.customer.email.toUpperCase());
    await page.getByLabel('SKU').fill('con-mug');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await row.waitFor();
    await assertAccessible('orders');
    await capture('orders');
    await page.getByRole('button', { name: 'Clear' }).click();
  });

  test('when the order is opened, then its detail shows every saga step with durations, its payments and its email', async () => {
    await page.getByRole('link', { name: orderId }).click();
    await page.getByRole('heading', { level: 1, name: `Order ${orderId}` }).waitFor();
    const steps = page.getByRole('list', { name: 'Saga steps' });
    await steps.getByText('confirmed', { exact: true }).waitFor();
    const names = await steps.locator('.timeline-name').allInnerTexts();
    assert.deepEqual(names, ['placed', 'stock-reserved', 'payment-authorized', 'payment-captured', 'stock-committed', 'confirmed']);
    assert.match(await steps.innerText(), /\+\d+(\.\d)? (ms|s)/, 'the time between steps');
    const payments = page.getByRole('region', { name: 'Payment operations', exact: true });
    await payments.getByRole('cell', { name: 'capture', exact: true }).waitFor();
    assert.match(await payments.innerText(), /authorize[\s\S]*capture/);
    await page.getByRole('region', { name: 'Email deliveries', exact: true }).getByText('orders.confirmed').waitFor({ timeout: 30_000 });
    await page.getByRole('region', { name: 'Webhook deliveries', exact: true }).getByText(/No webhook deliveries/).waitFor();
    await assertAccessible('order detail');
    await capture('order-detail');
  });

  test('when a consumer failed the order\'s confirmation into the dead letters, then its payload can be read and a replay from the console is handled', async () => {
    await eventually(async () => (await sql`select 1 from messaging.dead_letters where consumer = 'orders.console-check' and replayed_at is null`.execute(harness.db)).rows.length === 1, 'the dead letter');
    check.refusing = false;
    await goTo('Dead letters');
    const card = page.getByRole('listitem').filter({ hasText: 'orders.console-check' });
    await card.getByText('the check failed on purpose').waitFor();
    await card.getByText('Payload').click();
    assert.match(await card.locator('pre').innerText(), new RegExp(`"orderId": "${orderId}"`));
    await assertAccessible('dead letters');
    await capture('dead-letters');
    await card.getByRole('button', { name: /Replay dead letter/ }).click();
    await page.getByRole('status').filter({ hasText: 'sent back to orders.console-check' }).waitFor();
    await page.getByText(/No dead letters in orders/).waitFor();
    await eventually(() => check.handled.includes(orderId), 'the replayed confirmation handled');
  });

  test('when the order is cancelled from the console after a confirm dialog, then it is refunded and its stock is back on the inventory page', async () => {
    const before = await stockOf('CON-MUG');
    assert.deepEqual([before.onHand, before.reserved], [8, 0], 'two mugs shipped');
    await goTo('Orders');
    await page.getByRole('link', { name: orderId }).click();
    await page.getByRole('heading', { level: 1, name: `Order ${orderId}` }).waitFor();
    await page.getByRole('button', { name: 'Cancel order' }).click();
    const dialog = page.getByRole('dialog', { name: `Cancel order ${orderId}?` });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /refunded and the stock put back/);
    await assertAccessible('cancel dialog');
    await dialog.getByRole('button', { name: 'Keep the order' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Cancel order' }).click();
    await dialog.getByRole('button', { name: 'Yes, cancel the order' }).click();
    const summary = page.getByRole('region', { name: 'Summary', exact: true });
    await summary.getByText('CANCELLED', { exact: true }).waitFor({ timeout: 60_000 });
    assert.match(await summary.innerText(), /Refunded\s*€?\s*25[.,]98/);
    const steps = await page.getByRole('list', { name: 'Saga steps' }).locator('.timeline-name').allInnerTexts();
    assert.ok(steps.includes('cancel-requested') && steps.at(-1) === 'cancelled', steps.join(', '));
    await page.getByRole('region', { name: 'Payment operations', exact: true }).getByRole('cell', { name: 'refund', exact: true }).waitFor();
    await goTo('Inventory');
    const row = page.getByRole('row').filter({ hasText: 'CON-MUG' });
    assert.match(await row.innerText(), /CON-MUG\s+10\s+Edit\s+0\s+10/);
  });

  test('when on-hand is edited in place, then a bad value is refused with the reason and a good one is saved', async () => {
    const row = page.getByRole('row').filter({ hasText: 'CON-YEN' });
    await row.getByRole('button', { name: 'Edit on hand of CON-YEN' }).click();
    const input = row.getByLabel('On hand for CON-YEN');
    for (const bad of ['-2', '2.5', 'ten']) {
      await input.fill(bad);
      await row.getByRole('button', { name: 'Save' }).click();
      await row.getByRole('alert').filter({ hasText: 'whole number of 0 or more' }).waitFor();
    }
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    provoked.add(`400 ${baseUrl}/v1/inventory/CON-YEN`);
    await input.fill('2000000000');
    await row.getByRole('button', { name: 'Save' }).click();
    const refusal = row.locator('.state-error');
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /onHand|1000000000|1,000,000,000/i, 'the server\'s problem+json');
    await assertAccessible('inventory (refused edit)');
    await input.fill('7');
    await row.getByRole('button', { name: 'Save' }).click();
    await row.getByRole('button', { name: 'Edit on hand of CON-YEN' }).waitFor();
    assert.equal(await page.evaluate<string | null>("document.activeElement.getAttribute('aria-label')"), 'Edit on hand of CON-YEN', 'focus back on the row');
    assert.match(await row.innerText(), /CON-YEN\s+7\s+Edit\s+0\s+7/);
    assert.equal((await stockOf('CON-YEN')).onHand, 7);
    await page.getByRole('button', { name: 'Fewer than 10' }).click();
    await page.getByText('SKUs with fewer than 10 available').waitFor();
    await row.waitFor();
    assert.equal(await page.getByRole('row').filter({ hasText: 'CON-MUG' }).count(), 0, 'CON-MUG has 10 available');
    await assertAccessible('inventory');
    await capture('inventory');
  });

  test('when the overview is opened after the order, then its charts show the hour\'s placed, confirmed and cancelled orders', async () => {
    await goTo('Overview');
    for (const series of ['Placed', 'Confirmed', 'Cancelled']) {
      const tile = page.getByRole('region', { name: `${series} per minute` });
      await tile.waitFor();
      await eventually(async () => /^1\s/.test(await tile.locator('.big').innerText()), `${series} counted`, 15_000);
      assert.equal(await tile.locator('svg rect').count(), 1, `${series}: one bar`);
    }
    assert.match(await page.getByRole('region', { name: 'Time to confirm (p95)', exact: true }).innerText(), /\d+(\.\d)? (ms|s)[\s\S]*over 1 confirmed order/);
    assert.match(await page.getByRole('region', { name: 'Backlog', exact: true }).innerText(), /\d+ unfinished/);
    await assertAccessible('overview');
    await capture('overview');
  });

  test('when the webhooks page is opened, then it shows its empty states', async () => {
    await goTo('Webhooks');
    await page.getByText(/No webhook endpoints/).waitFor();
    await page.getByText(/No deliveries/).waitFor();
    await assertAccessible('webhooks');
    await capture('webhooks');
  });

  test('when the admin signs out, then the sign-in page is back, the cookie is gone and a reload does not sign in again', async () => {
    const [loggedOut] = await Promise.all([page.waitForResponse((response) => response.url().endsWith('/v1/auth/logout')), page.getByRole('button', { name: 'Sign out' }).click()]);
    assert.equal(loggedOut.status(), 204);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.deepEqual((await context.cookies()).filter((cookie) => cookie.name === 'orderstream_refresh' && cookie.value !== ''), []);
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  test('when every page was used, then none logged an error, threw, or broke the content policy', () => {
    assert.deepEqual(problems, []);
  });
});
