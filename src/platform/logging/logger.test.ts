import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { memoryLogger } from '../testing/memory-logger.ts';
import { runWithContext } from './request-context.ts';

describe('log lines', () => {
  // The API alone finds no span without a context manager; the tracing setup registers one.
  const manager = new AsyncLocalStorageContextManager();
  before(() => { context.setGlobalContextManager(manager.enable()); });
  after(() => { context.disable(); });

  test('when objects with credentials are logged, then their values are replaced at the top level and one level down', () => {
    const { logger, text } = memoryLogger();
    logger.info({
      password: 'pw-top-secret-1', accessToken: 'at-secret-2', refreshToken: 'rt-secret-3', client_secret: 'cs-secret-4',
      body: { password: 'pw-nested-5', token: 'tok-nested-6' },
      req: { headers: { authorization: 'Bearer hdr-secret-7', cookie: 'session=ck-secret-8' } },
      headers: { authorization: 'Bearer hdr-secret-9', 'set-cookie': 'ck-secret-10' },
      config: { databaseUrl: 'postgres://user:db-secret-11@host/db', secret: 'sec-secret-12' },
    }, 'credentials everywhere');
    const written = text();
    assert.doesNotMatch(written, /secret-\d+|pw-|hdr-|ck-/);
    assert.match(written, /"password":"\[redacted\]"/);
    assert.match(written, /credentials everywhere/);
  });

  test('when work runs with a request, order and message context, then every line it writes carries those ids', () => {
    const { logger, lines } = memoryLogger();
    runWithContext({ requestId: 'req-1', orderId: 'ord_1' }, () => {
      runWithContext({ messageId: 'msg-1' }, () => { logger.info('inside'); });
    });
    logger.info('outside');
    const [inside, outside] = lines();
    assert.deepEqual([inside?.requestId, inside?.orderId, inside?.messageId], ['req-1', 'ord_1', 'msg-1']);
    assert.equal(outside?.requestId, undefined);
  });

  test('when an OpenTelemetry span is active, then lines carry its traceId and spanId; without one, neither', () => {
    const { logger, lines } = memoryLogger();
    const spanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };
    context.with(trace.setSpan(context.active(), trace.wrapSpanContext(spanContext)), () => {
      runWithContext({ requestId: 'req-2' }, () => { logger.info('traced'); });
    });
    logger.info('untraced');
    const [traced, untraced] = lines();
    assert.deepEqual([traced?.traceId, traced?.spanId, traced?.requestId], [spanContext.traceId, spanContext.spanId, 'req-2']);
    assert.equal(untraced?.traceId, undefined);
    assert.equal(untraced?.spanId, undefined);
  });
});
