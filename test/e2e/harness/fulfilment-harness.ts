import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '../../../src/platform/config/config.ts';
import type { Database } from '../../../src/platform/database/database.ts';
import { createLogger, type Logger } from '../../../src/platform/logging/logger.ts';
import type { MessageTransport } from '../../../src/platform/messaging/index.ts';
import type { PaymentsTestOverrides } from '../../../src/modules/payments/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../src/platform/testing/test-database.ts';
import { createSingleProcess, type SingleProcess } from '../../../src/apps/single-process.ts';

/** An email the test SMTP server received. */
export interface ReceivedEmail {
  to: string[];
  data: string;
}

/** A webhook call the test receiver got. */
export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real SMTP server on loopback that records every message. */
export async function startSmtpServer(): Promise<{ url: string; received: ReceivedEmail[]; close: () => Promise<void> }> {
  const received: ReceivedEmail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((recipient) => recipient.address), data: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => { server.close(() => { resolve(); }); }) };
}

/** A webhook endpoint on loopback that answers 200 and records every call. */
export async function startWebhookReceiver(): Promise<{ url: string; received: ReceivedWebhook[]; close: () => Promise<void> }> {
  const received: ReceivedWebhook[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks`, received, close: () => new Promise((resolve) => { server.close(() => { resolve(); }); }) };
}

export interface FulfilmentHarness {
  orderstream: SingleProcess;
  db: Database;
  databaseUrl: string;
  smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  webhooks: Awaited<ReturnType<typeof startWebhookReceiver>>;
  close: () => Promise<void>;
}

/**
 * The whole single process on a fresh database, with a real SMTP server and a webhook receiver
 * registered for order events; background work running. `env` overrides configuration.
 */
export async function startFulfilment(
  env: Record<string, string> = {},
  options: { transport?: MessageTransport; registerWebhook?: boolean; logger?: Logger; payments?: PaymentsTestOverrides } = {},
): Promise<FulfilmentHarness> {
  const database = await createTestDatabase(embeddedServerUrl(), []);
  const documentsDir = await mkdtemp(path.join(tmpdir(), 'orderstream-documents-'));
  const smtp = await startSmtpServer();
  const webhooks = await startWebhookReceiver();
  const config = loadConfig({
    LOG_LEVEL: 'silent', DEV_IDENTITY_HEADERS: 'true', RATE_LIMIT_BURST: '1000000', AUTH_RATE_LIMIT_BURST: '1000000', EMAIL_TRANSPORT: 'smtp', DOCUMENTS_DIR: documentsDir, SMTP_URL: smtp.url, OUTBOX_POLL_INTERVAL_MS: '200',
    MESSAGE_RETRY_BASE_MS: '20', NOTIFICATION_RETRY_BASE_MS: '20', SIMULATED_PAYMENT_DELAY_MS: '3000',
    // The webhook receiver listens on loopback, which webhooks may not reach unless allowed.
    WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32', ...env,
  });
  const orderstream = await createSingleProcess({
    config, logger: options.logger ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), databaseUrl: database.url,
    keyEncryptionKey: randomBytes(32).toString('base64'),
    ...(options.transport === undefined ? {} : { transport: options.transport }),
    ...(options.payments === undefined ? {} : { payments: options.payments }),
  });
  await orderstream.start();
  if (options.registerWebhook !== false) {
    const registered = await orderstream.app.inject({
      method: 'POST', url: '/v1/admin/webhooks', headers: adminHeaders,
      payload: { url: webhooks.url, events: ['orders.confirmed', 'orders.cancelled'] },
    });
    if (registered.statusCode !== 201) throw new Error(`webhook registration failed: ${registered.statusCode} ${registered.body}`);
  }
  return {
    orderstream, db: orderstream.db, databaseUrl: database.url, smtp, webhooks,
    close: async () => {
      await orderstream.close();
      await smtp.close();
      await webhooks.close();
      await database.drop();
      await rm(documentsDir, { recursive: true, force: true });
    },
  };
}

export const adminHeaders = { 'x-dev-customer-id': 'admin-1', 'x-dev-roles': 'admin' };

export function customerHeaders(customerId: string): Record<string, string> {
  return { 'x-dev-customer-id': customerId, 'x-dev-customer-email': `${customerId}@example.com` };
}

/** Creates a product and sets its stock through the public API. */
export async function stockProduct(orderstream: SingleProcess, sku: string, onHand: number, amount = 1000): Promise<void> {
  const created = await orderstream.app.inject({ method: 'POST', url: '/v1/products', headers: adminHeaders, payload: { sku, name: `Product ${sku}`, price: { amount, currency: 'EUR' } } });
  if (created.statusCode !== 201) throw new Error(`product ${sku}: ${created.statusCode} ${created.body}`);
  const stocked = await orderstream.app.inject({ method: 'PUT', url: `/v1/inventory/${sku}`, headers: adminHeaders, payload: { onHand } });
  if (stocked.statusCode !== 200) throw new Error(`stock ${sku}: ${stocked.statusCode} ${stocked.body}`);
}

/** Waits until every order is CONFIRMED or CANCELLED, reading the database (not the API). */
export async function waitForTerminal(db: Database, orderIds: readonly string[], timeoutMs = 60_000): Promise<Map<string, { status: string; reason: string | null }>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await sql<{ id: string; status: string; cancellation_reason: string | null }>`
      select id, status, cancellation_reason from orders.orders where id = any(${orderIds})`.execute(db);
    const terminal = rows.rows.filter((row) => row.status === 'CONFIRMED' || row.status === 'CANCELLED');
    if (terminal.length === orderIds.length) return new Map(terminal.map((row) => [row.id, { status: row.status, reason: row.cancellation_reason }]));
    if (Date.now() > deadline) {
      const stuck = rows.rows.filter((row) => row.status !== 'CONFIRMED' && row.status !== 'CANCELLED').slice(0, 5);
      throw new Error(`${orderIds.length - terminal.length} orders not terminal after ${timeoutMs} ms, e.g. ${JSON.stringify(stuck)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until `condition` holds, polling. */
export async function eventually(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Stock as the public API reports it. */
export async function stockOf(orderstream: SingleProcess, sku: string): Promise<{ onHand: number; reserved: number; available: number }> {
  const response = await orderstream.app.inject({ method: 'GET', url: `/v1/inventory/${sku}`, headers: adminHeaders });
  if (response.statusCode !== 200) throw new Error(`stock of ${sku}: ${response.statusCode} ${response.body}`);
  return response.json();
}

/** Places an order through the API; returns the response. */
export async function placeOrder(orderstream: SingleProcess, customerId: string, items: { sku: string; quantity: number }[], token = 'tok_visa', key: string = crypto.randomUUID()) {
  return orderstream.app.inject({
    method: 'POST', url: '/v1/orders', headers: { ...customerHeaders(customerId), 'idempotency-key': key },
    payload: { items, payment: { token } },
  });
}
