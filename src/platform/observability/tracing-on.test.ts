import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { createEnvelope } from '../messaging/envelope.ts';
import { continueTrace, currentTraceparent, isTracingEnabled, startTracing, traced, tracedUseCase, type Tracing } from './tracing.ts';

// The provider is global to this test process: started once for the file.
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
before(async () => { tracing = await startTracing({ serviceName: 'tracing-test', exporter }); });
after(async () => { await tracing.shutdown(); });
beforeEach(() => { exporter.reset(); });

const finished = (name: string) => {
  const span = exporter.getFinishedSpans().find((candidate) => candidate.name === name);
  assert.ok(span, `a span named ${name}`);
  return span;
};

describe('tracing on', () => {
  test('when traced work creates a message, then the envelope carries the active span as traceparent', async () => {
    const envelope = await traced('orders.place-order', () => Promise.resolve(createEnvelope({ type: 'orders.placed', version: 1, key: 'ord_1', payload: {} })));
    const span = finished('orders.place-order');
    assert.equal(envelope.traceparent, `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    assert.equal(currentTraceparent(), undefined, 'outside any span there is nothing to carry');
    assert.equal(isTracingEnabled(), true);
  });

  test('when work continues a traceparent inside another span, then it is a child of the traceparent, not of the active span', async () => {
    const producer = await traced('producer', () => Promise.resolve(currentTraceparent()));
    await traced('relay', () => continueTrace('process orders.placed', producer, () => Promise.resolve(), { role: 'consumer' }));
    const consumer = finished('process orders.placed');
    assert.equal(consumer.kind, SpanKind.CONSUMER);
    assert.equal(consumer.spanContext().traceId, finished('producer').spanContext().traceId);
    assert.equal(consumer.parentSpanContext?.spanId, finished('producer').spanContext().spanId);
  });

  test('when work continues no traceparent, then it starts a trace of its own', async () => {
    await traced('relay', () => continueTrace('jobs.invoice', undefined, () => Promise.resolve()));
    assert.equal(finished('jobs.invoice').parentSpanContext, undefined);
    assert.notEqual(finished('jobs.invoice').spanContext().traceId, finished('relay').spanContext().traceId);
  });

  test('when a batch names the traceparents of its messages, then each becomes a link', async () => {
    const first = await traced('first', () => Promise.resolve(currentTraceparent()));
    const second = await traced('second', () => Promise.resolve(currentTraceparent()));
    await traced('outbox.relay-batch', () => Promise.resolve(), { role: 'producer', linkedTo: [first, null, second, first, 'not-a-traceparent'] });
    const links = finished('outbox.relay-batch').links.map((link) => link.context.spanId);
    assert.deepEqual(links, [finished('first').spanContext().spanId, finished('second').spanContext().spanId]);
  });

  test('when traced work fails, then the span records the error and the error reaches the caller', async () => {
    await assert.rejects(traced('inventory.reserve-stock', () => Promise.reject(new Error('no stock'))), /no stock/);
    const span = finished('inventory.reserve-stock');
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.status.message, 'no stock');
    assert.equal(span.events[0]?.name, 'exception');
  });

  test('when a use case is wrapped at composition, then each execute is a span and keeps its object', async () => {
    class CountOrders {
      readonly #base = 40;
      execute(extra: number): Promise<number> { return Promise.resolve(this.#base + extra); }
    }
    const useCase = tracedUseCase('orders.count-orders', new CountOrders());
    assert.equal(await useCase.execute(2), 42);
    assert.equal(finished('orders.count-orders').kind, SpanKind.INTERNAL);
  });
});
