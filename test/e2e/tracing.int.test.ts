import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startTracing, traced, type Tracing } from '../../src/platform/observability/tracing.ts';
import { requireService } from '../../src/platform/testing/services.ts';
import type * as FulfilmentHarnessModule from './harness/fulfilment-harness.ts';

// The tracer provider is global to this test process: it is started once, in `before`, and before
// the application is imported, because the pg instrumentation patches `pg` as it loads.
const exporter = new InMemorySpanExporter();
const warnings: string[] = [];
let tracing: Tracing;
let fulfilment: typeof FulfilmentHarnessModule;
let harness: FulfilmentHarnessModule.FulfilmentHarness;

before(async () => {
  tracing = await startTracing({ serviceName: 'orderstream-test', exporter, warn: (message) => { warnings.push(message); } });
  fulfilment = await import('./harness/fulfilment-harness.ts');
  harness = await fulfilment.startFulfilment();
});
after(async () => {
  await harness.close();
  await tracing.shutdown();
});

const spanId = (span: ReadableSpan) => span.spanContext().spanId;
const parentId = (span: ReadableSpan) => span.parentSpanContext?.spanId;

/** The spans of one trace, with lookups by id and name. */
function traceOf(traceId: string) {
  const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
  const byId = new Map(spans.map((span) => [spanId(span), span]));
  const ancestors = (span: ReadableSpan): ReadableSpan[] => {
    const chain: ReadableSpan[] = [];
    for (let parent = byId.get(parentId(span) ?? ''); parent !== undefined; parent = byId.get(parentId(parent) ?? '')) chain.push(parent);
    return chain;
  };
  const named = (name: string, consumer?: string) => spans.filter((span) => span.name === name
    && (consumer === undefined || span.attributes['messaging.consumer.group.name'] === consumer));
  return { spans, byId, ancestors, named };
}

describe('tracing an order through every module', () => {
  test('when tracing starts before the app is imported, then nothing is reported as left untraced', () => {
    assert.deepEqual(warnings, []);
  });

  test('when an order is paid with tok_visa, then one trace connects the request, orders, inventory, payments, notifications and the invoice record', async () => {
    await fulfilment.stockProduct(harness.orderstream, 'TRACE-1', 10, 1500);
    exporter.reset();

    const response = await fulfilment.placeOrder(harness.orderstream, 'cus_trace', [{ sku: 'TRACE-1', quantity: 2 }]);
    assert.equal(response.statusCode, 202, response.body);
    const orderId = response.json<{ id: string }>().id;
    const outcome = await fulfilment.waitForTerminal(harness.db, [orderId]);
    assert.equal(outcome.get(orderId)?.status, 'CONFIRMED');

    const request = exporter.getFinishedSpans().find((span) => span.name === 'POST /v1/orders');
    assert.ok(request, 'a span for the HTTP request');
    const { traceId } = request.spanContext();
    // The last links of the chain: the invoice recorded for its first download, the confirmation email sent.
    await fulfilment.eventually(() => traceOf(traceId).named('jobs.record-invoice').length === 1, 'the invoice record span');
    await fulfilment.eventually(() => traceOf(traceId).named('notifications.send-email').length === 1, 'the email delivery span');
    const order = traceOf(traceId);

    // One trace, one root: the request, which every other span descends from.
    assert.equal(request.kind, SpanKind.SERVER);
    assert.equal(request.attributes['http.route'], '/v1/orders');
    assert.equal(request.attributes['http.response.status_code'], 202);
    assert.equal(request.parentSpanContext, undefined);
    for (const span of order.spans) {
      if (span === request) continue;
      assert.ok(order.byId.has(parentId(span) ?? ''), `${span.name} has its parent in the trace`);
      assert.ok(order.ancestors(span).includes(request), `${span.name} descends from the request`);
    }

    // The use case runs inside the request, and its SQL statements inside it (pg instrumented under ESM).
    const placeOrder = order.named('orders.place-order');
    assert.equal(placeOrder.length, 1);
    assert.equal(parentId(placeOrder[0]!), spanId(request));
    const statements = order.spans.filter((span) => span.attributes['db.system.name'] === 'postgresql' || span.attributes['db.system'] === 'postgresql');
    assert.ok(statements.some((statement) => parentId(statement) === spanId(placeOrder[0]!)), 'SQL statements of place-order are its children');

    // Each step of the saga is a consumer span, a child of the span that wrote its message.
    const consumed = (type: string, consumer: string): ReadableSpan => {
      const spans = order.named(`process ${type}`, consumer);
      assert.equal(spans.length, 1, `one ${consumer} span for ${type}`);
      const span = spans[0]!;
      assert.equal(span.kind, SpanKind.CONSUMER);
      assert.equal(span.attributes['messaging.destination.name'], `orderstream.${type.split('.')[0] ?? ''}.v1`);
      return span;
    };
    const reserve = consumed('inventory.reserve-stock', 'inventory.reserve-stock');
    assert.ok(order.ancestors(reserve).includes(placeOrder[0]!), 'the reservation continues the placed order');
    const reserved = consumed('inventory.reserved', 'orders.saga');
    assert.ok(order.ancestors(reserved).includes(reserve));
    const authorizeCommand = consumed('payments.authorize-payment', 'payments.commands');
    assert.ok(order.ancestors(authorizeCommand).includes(reserved));
    // The provider call runs on the payments worker, from the operation the command queued.
    const authorize = order.named('payments.authorize');
    assert.equal(authorize.length, 1);
    assert.ok(order.ancestors(authorize[0]!).includes(authorizeCommand), 'the worker continues the command that queued it');
    const authorized = consumed('payments.authorized', 'orders.saga');
    assert.ok(order.ancestors(authorized).includes(authorize[0]!));
    const capture = order.named('payments.capture');
    assert.equal(capture.length, 1);
    const captured = consumed('payments.captured', 'orders.saga');
    assert.ok(order.ancestors(captured).includes(capture[0]!));
    const commit = consumed('inventory.commit-stock', 'inventory.commit-stock');
    assert.ok(order.ancestors(commit).includes(captured));
    const committed = consumed('inventory.committed', 'orders.saga');
    assert.ok(order.ancestors(committed).includes(commit));

    // The confirmation reaches notifications and jobs, each continuing the saga step that confirmed.
    const notified = consumed('orders.confirmed', 'notifications.order-events');
    const invoiced = consumed('orders.confirmed', 'jobs.invoice-on-confirmation');
    assert.ok(order.ancestors(notified).includes(committed));
    assert.ok(order.ancestors(invoiced).includes(committed));
    assert.ok(order.ancestors(order.named('notifications.send-email')[0]!).includes(notified), 'the email is sent in the trace of the event');
    assert.ok(order.named('jobs.record-invoice').some((span) => parentId(span) === spanId(invoiced)), 'the invoice is recorded by the consumer of the confirmation');

    // The relay's batches are traces of their own, linked to the messages they carried.
    const batches = exporter.getFinishedSpans().filter((span) => span.name === 'outbox.relay-batch');
    assert.ok(batches.some((batch) => batch.links.some((link) => link.context.traceId === traceId)), 'a relay batch links to the order trace');
    assert.ok(batches.every((batch) => batch.spanContext().traceId !== traceId));
  });

  test('when a request carries a traceparent, then its trace continues it', async () => {
    const traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
    const response = await harness.orderstream.app.inject({
      method: 'GET', url: '/v1/inventory/TRACE-1', headers: { ...fulfilment.adminHeaders, traceparent },
    });
    assert.equal(response.statusCode, 200, response.body);
    const span = exporter.getFinishedSpans().find((candidate) => candidate.name === 'GET /v1/inventory/:sku'
      && candidate.spanContext().traceId === traceparent.split('-')[1]);
    assert.ok(span, 'the request span joined the caller\'s trace');
    assert.equal(parentId(span), traceparent.split('-')[2]);
  });
});

describe('tracing from the command line', () => {
  test('when orderstream runs with an OTLP endpoint, then it starts tracing before anything loads pg', async () => {
    const { createTestDatabase, embeddedServerUrl } = await import('../../src/platform/testing/test-database.ts');
    const database = await createTestDatabase(embeddedServerUrl(), []);
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [new URL('../../src/cli.ts', import.meta.url).pathname, 'migrate'], {
        // Nothing is exported (migrations run outside any span), so the endpoint need not answer.
        env: { PATH: process.env.PATH, DATABASE_URL: database.url, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', LOG_LEVEL: 'info' },
      });
      assert.match(stdout, /tracing to an OTLP collector/);
      assert.match(stdout, /migrations applied/);
      assert.doesNotMatch(stdout, /will not be traced/);
    } finally {
      await database.drop();
    }
  });
});

const kafka = requireService('Kafka', 'KAFKA_BROKERS');

describe('tracing across the Kafka transport', { skip: kafka.skip }, () => {
  test('when a message travels through Kafka, then its consumer span is a child of the span that wrote it', async () => {
    const { KafkaTransport } = await import('../../src/platform/messaging/kafka-transport.ts');
    const { appendToOutbox, createEnvelope, createMessaging, messagingMigrations } = await import('../../src/platform/messaging/index.ts');
    const { createTestDatabase, embeddedServerUrl } = await import('../../src/platform/testing/test-database.ts');
    const { createLogger } = await import('../../src/platform/logging/logger.ts');
    const logger = createLogger({ level: 'silent' });
    // A module and consumer of this run's own, so its topic and group hold only this test's message.
    const run = `tr${randomBytes(4).toString('hex')}`;
    const database = await createTestDatabase(embeddedServerUrl(), [messagingMigrations]);
    const transport = new KafkaTransport({ brokers: (kafka.url ?? '').split(','), clientId: `test-${run}`, partitions: 2, logger, closeTimeoutMs: 2_000 });
    const messaging = createMessaging({ db: database.db, transport, logger, retryPolicy: { maxAttempts: 3, baseDelayMs: 20 }, pollIntervalMs: 100 });
    let delivered = false;
    messaging.register({ name: `${run}.consumer`, types: [`${run}.pinged`], handle: () => { delivered = true; return Promise.resolve(); } });
    try {
      await transport.ready();
      const producer = await traced('test.produce', async () => {
        await database.db.transaction().execute((transaction) => appendToOutbox(transaction, [createEnvelope({ type: `${run}.pinged`, version: 1, key: 'k', payload: {} })]));
        return exporter.getFinishedSpans().length;
      });
      assert.ok(producer >= 0);
      await messaging.start();
      await fulfilment.eventually(() => delivered && exporter.getFinishedSpans().some((span) => span.name === `process ${run}.pinged`), 'the Kafka delivery', 60_000);
      const produced = exporter.getFinishedSpans().find((span) => span.name === 'test.produce');
      const consumed = exporter.getFinishedSpans().find((span) => span.name === `process ${run}.pinged`);
      assert.ok(produced && consumed);
      assert.equal(consumed.spanContext().traceId, produced.spanContext().traceId);
      assert.equal(parentId(consumed), spanId(produced));
      assert.equal(consumed.attributes['messaging.destination.name'], `orderstream.${run}.v1`);
    } finally {
      await messaging.stop();
      await transport.close();
      await database.drop();
    }
  });
});
