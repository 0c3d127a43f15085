import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { context, isSpanContextValid, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { loadConfig } from '../config/config.ts';
import { createLogger } from '../logging/logger.ts';
import { createEnvelope } from '../messaging/envelope.ts';
import { continueTrace, currentTraceparent, isTracingEnabled, startConfiguredTracing, traced, tracedUseCase } from './tracing.ts';

// This file's process never starts tracing: it shows what "off" costs, which is nothing.
describe('tracing off (OTEL_EXPORTER_OTLP_ENDPOINT unset)', () => {
  test('when the endpoint is not configured, then no tracer provider is registered and no span records', async () => {
    const tracing = await startConfiguredTracing(loadConfig({}), createLogger({ level: 'silent' }));
    assert.equal(tracing, undefined);
    assert.equal(isTracingEnabled(), false);
    const span = trace.getTracer('probe').startSpan('probe');
    assert.equal(span.isRecording(), false);
    assert.equal(isSpanContextValid(span.spanContext()), false, 'the no-op API hands out an invalid span context');
    span.end();
  });

  test('when a message is created inside traced work, then its envelope carries no traceparent', async () => {
    const envelope = await traced('orders.place-order', () => Promise.resolve(createEnvelope({ type: 'orders.placed', version: 1, key: 'ord_1', payload: {} })));
    assert.equal('traceparent' in envelope, false);
    assert.equal(currentTraceparent(), undefined);
  });

  test('when work is traced or continues a traceparent, then it runs as a plain call with no active span or context', async () => {
    let seen: unknown = 'not run';
    const result = await continueTrace('payments.capture', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', () => {
      seen = trace.getActiveSpan();
      return Promise.resolve(context.active());
    });
    assert.equal(seen, undefined);
    assert.equal(result, ROOT_CONTEXT);
  });

  test('when a use case is wrapped at composition, then it is returned untouched', () => {
    class PlaceOrder {
      execute(input: number): Promise<number> { return Promise.resolve(input + 1); }
    }
    const useCase = new PlaceOrder();
    assert.equal(tracedUseCase('orders.place-order', useCase), useCase);
    assert.equal(Object.hasOwn(useCase, 'execute'), false, 'no wrapper was installed');
  });
});
