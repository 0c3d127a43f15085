import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireService } from '../../src/platform/testing/services.ts';
import { waitForTerminal } from './harness/fulfilment-harness.ts';
import { call, signIn, startServicesShape, type RunningShape } from './harness/shapes.ts';

/**
 * One order's trace in the services shape: every process exports its spans (OTLP/HTTP JSON) to a
 * collector of this test, and the spans of the gateway and of each service the order passes
 * through share the trace id of the request. No process is given OTEL_SERVICE_NAME: each names its
 * traces after its role.
 */
const kafka = requireService('Kafka', 'KAFKA_BROKERS');

interface CollectedSpan {
  service: string;
  traceId: string;
  name: string;
}

describe('tracing across the services shape', { skip: kafka.skip }, () => {
  let collector: Server;
  const spans: CollectedSpan[] = [];
  let running: RunningShape | undefined;

  before(async () => {
    collector = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            resourceSpans?: { resource?: { attributes?: { key: string; value: { stringValue?: string } }[] }; scopeSpans?: { spans?: { traceId: string; name: string }[] }[] }[];
          };
          for (const resourceSpans of body.resourceSpans ?? []) {
            const service = resourceSpans.resource?.attributes?.find((attribute) => attribute.key === 'service.name')?.value.stringValue ?? '?';
            for (const scope of resourceSpans.scopeSpans ?? []) {
              for (const span of scope.spans ?? []) spans.push({ service, traceId: span.traceId, name: span.name });
            }
          }
        } catch {
          // not JSON: ignored, the assertions below will say what is missing
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    const endpoint = `http://127.0.0.1:${String((collector.address() as AddressInfo).port)}`;
    running = await startServicesShape({ kafkaBrokers: kafka.url ?? '', otlpEndpoint: endpoint });
  });
  after(async () => {
    // Also when the shape failed to start: a collector left listening would keep this file from ever ending.
    try {
      await running?.stop();
    } finally {
      collector.closeAllConnections();
      collector.close();
    }
  });

  test('when one order is placed through the gateway, then the gateway and every service it passes through report spans of one trace', async () => {
    assert.ok(running !== undefined);
    const admin = await signIn(running, 'admin-trace@example.com', { admin: true });
    const customer = await signIn(running, 'ada-trace@example.com');
    assert.equal((await call(running, 'POST', '/v1/products', { token: admin, body: { sku: 'TRACE-1', name: 'Traced', price: { amount: 900, currency: 'EUR' } } })).status, 201);
    assert.equal((await call(running, 'PUT', '/v1/inventory/TRACE-1', { token: admin, body: { onHand: 3 } })).status, 200);
    const placed = await call(running, 'POST', '/v1/orders', {
      token: customer, headers: { 'idempotency-key': crypto.randomUUID() }, body: { items: [{ sku: 'TRACE-1', quantity: 1 }], payment: { token: 'tok_visa' } },
    });
    assert.equal(placed.status, 202);
    const outcome = await waitForTerminal(running.databaseOf('orders'), [(placed.body as { id: string }).id], 60_000);
    assert.equal([...outcome.values()][0]?.status, 'CONFIRMED');

    const expected = ['orderstream-gateway', 'orderstream-orders', 'orderstream-catalog', 'orderstream-inventory', 'orderstream-payments', 'orderstream-notifications'];
    const deadline = Date.now() + 30_000;
    let services = new Set<string>();
    while (Date.now() < deadline) {
      const root = spans.find((span) => span.service === 'orderstream-gateway' && span.name.startsWith('POST') && span.name.includes('/v1/orders'));
      if (root !== undefined) services = new Set(spans.filter((span) => span.traceId === root.traceId).map((span) => span.service));
      if (expected.every((service) => services.has(service))) break;
      await sleep(500);
    }
    assert.deepEqual(expected.filter((service) => !services.has(service)), [], `services in the order's trace: ${[...services].join(', ')}`);
  });
});
