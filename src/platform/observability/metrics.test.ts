import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createHttpApp } from '../http/app.ts';
import { createLogger } from '../logging/logger.ts';
import { sampleValue as sample } from '../testing/prometheus-text.ts';
import { createMetrics, type Metrics } from './metrics.ts';

async function scrape(metrics: Metrics): Promise<string> {
  return (await metrics.exposition()).body;
}

describe('metrics', () => {
  test('when two apps create their metrics in one process, then each has its own registry and their counts do not mix', async () => {
    const first = createMetrics({ processMetrics: false });
    const second = createMetrics({ processMetrics: false });
    first.ordersPlaced.inc();
    first.ordersPlaced.inc();
    second.ordersPlaced.inc();
    assert.equal(sample(await scrape(first), 'orderstream_orders_placed_total'), 2);
    assert.equal(sample(await scrape(second), 'orderstream_orders_placed_total'), 1);
  });

  test('when process metrics are on (the default), then Node.js and process metrics are exported too, twice in one process without a clash', async () => {
    const one = await scrape(createMetrics());
    const two = await scrape(createMetrics());
    for (const text of [one, two]) {
      assert.match(text, /^process_cpu_user_seconds_total /m);
      assert.match(text, /^nodejs_heap_size_used_bytes /m);
      assert.match(text, /^nodejs_eventloop_lag_seconds /m);
    }
  });

  test('when the registry is listed, then every metric has a help text and no label could carry an id, a path or a message', async () => {
    const metrics = createMetrics();
    const unbounded = /^(id|.*_id|path|url|message|error|reason|email|sku|key)$/;
    for (const metric of await metrics.registry.getMetricsAsJSON()) {
      assert.ok(metric.help.trim().length > 10, `${metric.name} has a help text`);
      if (!metric.name.startsWith('orderstream_')) continue;
      for (const value of metric.values) {
        for (const label of Object.keys(value.labels)) assert.doesNotMatch(label, unbounded, `${metric.name} label ${label}`);
      }
    }
  });

  test('when requests are served, then the HTTP histogram counts them by route template, method and status, and unknown paths as unmatched', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const app = createHttpApp({
      logger: createLogger({ level: 'silent' }), bodyLimit: 1024, readiness: [], metrics,
      routes: [(scoped) => { scoped.get('/things/:id', () => ({ ok: true })); }],
    });
    await app.inject({ method: 'GET', url: '/things/1' });
    await app.inject({ method: 'GET', url: '/things/2' });
    await app.inject({ method: 'GET', url: '/no/such/path/9f3a' });
    await app.close();
    const text = await scrape(metrics);
    assert.equal(sample(text, 'orderstream_http_request_duration_seconds_count', { method: 'GET', route: '/things/:id', status_code: '200' }), 2);
    assert.equal(sample(text, 'orderstream_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_code: '404' }), 1);
    assert.doesNotMatch(text, /things\/1|9f3a/, 'no raw path in any label');
    assert.equal(sample(text, 'orderstream_http_request_duration_seconds_bucket', { method: 'GET', route: '/things/:id', status_code: '200', le: '+Inf' }), 2);
  });

  test('when the gateway sets a circuit breaker state, then the gauge reports 0 closed, 1 half-open, 2 open per upstream', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.setCircuitState('orders', 'open');
    metrics.setCircuitState('catalog', 'half-open');
    metrics.circuitState.set({ upstream: 'identity' }, 0);
    const text = await scrape(metrics);
    assert.equal(sample(text, 'orderstream_circuit_breaker_state', { upstream: 'orders' }), 2);
    assert.equal(sample(text, 'orderstream_circuit_breaker_state', { upstream: 'catalog' }), 1);
    assert.equal(sample(text, 'orderstream_circuit_breaker_state', { upstream: 'identity' }), 0);
  });

  test('when a scrape-time source never answers, then the scrape still completes within the timeout and counts the failure', async () => {
    const metrics = createMetrics({ processMetrics: false, scrapeTimeoutMs: 100 });
    metrics.readFrom({ jobQueues: () => new Promise(() => undefined) });
    const startedAt = performance.now();
    const text = await scrape(metrics);
    assert.ok(performance.now() - startedAt < 1000, 'the scrape did not wait for the hung source');
    assert.equal(sample(text, 'orderstream_metrics_scrape_errors_total', { source: 'job-queues' }), 1);
  });

  test('when a hung source is scraped again, then it is not read again while its first reading is outstanding', async () => {
    const metrics = createMetrics({ processMetrics: false, scrapeTimeoutMs: 50 });
    let reads = 0;
    metrics.readFrom({ jobQueues: () => { reads += 1; return new Promise(() => undefined); } });
    await scrape(metrics);
    const text = await scrape(metrics);
    assert.equal(reads, 1);
    assert.equal(sample(text, 'orderstream_metrics_scrape_errors_total', { source: 'job-queues' }), 2);
  });

  test('when several gauges are filled at scrape time, then their source is read once per scrape', async () => {
    const metrics = createMetrics({ processMetrics: false });
    let reads = 0;
    metrics.readFrom({ jobQueues: () => { reads += 1; return Promise.resolve([{ kind: 'catalog-import', queued: 3, active: 1 }]); } });
    const text = await scrape(metrics);
    assert.equal(reads, 1);
    assert.equal(sample(text, 'orderstream_jobs_queued', { kind: 'catalog-import' }), 3);
    assert.equal(sample(text, 'orderstream_jobs_active', { kind: 'catalog-import' }), 1);
  });

  test('when Kafka reports lag per partition, then it is summed per consumer and topic, and a topic no longer reported drops to 0', async () => {
    const metrics = createMetrics({ processMetrics: false });
    let lag = [
      { consumer: 'orders.saga', topic: 'orderstream.payments.v1', partition: 0, lag: 2 },
      { consumer: 'orders.saga', topic: 'orderstream.payments.v1', partition: 1, lag: 5 },
      { consumer: 'orders.saga', topic: 'orderstream.inventory.v1', partition: 0, lag: 1 },
    ];
    metrics.readFrom({ consumerLag: () => Promise.resolve(lag) });
    const first = await scrape(metrics);
    assert.equal(sample(first, 'orderstream_kafka_consumer_lag', { consumer: 'orders.saga', topic: 'orderstream.payments.v1' }), 7);
    assert.equal(sample(first, 'orderstream_kafka_consumer_lag', { consumer: 'orders.saga', topic: 'orderstream.inventory.v1' }), 1);
    lag = [{ consumer: 'orders.saga', topic: 'orderstream.payments.v1', partition: 0, lag: 0 }];
    const second = await scrape(metrics);
    assert.equal(sample(second, 'orderstream_kafka_consumer_lag', { consumer: 'orders.saga', topic: 'orderstream.inventory.v1' }), 0);
  });

  test('when work limiters are read at scrape time, then running and queued show their state and refusals add up across scrapes', async () => {
    const metrics = createMetrics({ processMetrics: false });
    let hashing = { resource: 'password hashing', concurrency: 2, running: 2, queued: 5, refusedTotal: 3 };
    metrics.readFrom({ workLimiters: () => [hashing, { resource: 'PDF rendering', concurrency: 1, running: 0, queued: 0, refusedTotal: 0 }] });
    const first = await scrape(metrics);
    assert.equal(sample(first, 'orderstream_work_limiter_running', { resource: 'password hashing' }), 2);
    assert.equal(sample(first, 'orderstream_work_limiter_queued', { resource: 'password hashing' }), 5);
    assert.equal(sample(first, 'orderstream_work_limiter_refused_total', { resource: 'password hashing' }), 3);
    assert.equal(sample(first, 'orderstream_work_limiter_refused_total', { resource: 'PDF rendering' }), 0);
    hashing = { ...hashing, running: 1, queued: 0, refusedTotal: 7 };
    const second = await scrape(metrics);
    assert.equal(sample(second, 'orderstream_work_limiter_running', { resource: 'password hashing' }), 1);
    assert.equal(sample(second, 'orderstream_work_limiter_queued', { resource: 'password hashing' }), 0);
    assert.equal(sample(second, 'orderstream_work_limiter_refused_total', { resource: 'password hashing' }), 7);
  });
});
