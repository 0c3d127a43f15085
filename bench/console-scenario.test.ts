import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noErrors, type ScenarioResult } from './bench-result.ts';
import { consoleReads, summariseConsoleReads, type ConsoleSample } from './console-scenario.ts';
import { consoleSummary } from './report-summaries.ts';

const sample: ConsoleSample = {
  orderIds: ['ord_a', 'ord_b'], email: 'Customer-17@console.bench.orderstream.local', commonSku: 'BENCH-00000', rareSku: 'BENCH 9',
  from: new Date('2026-12-05T10:00:00Z'), to: new Date('2026-12-05T11:00:00Z'),
};

test('when a round of console reads is made, then it reads the summary, the list by every filter and one order of the sample, rounds taking turns', () => {
  const paths = (round: number) => consoleReads(sample, round).map((read) => read.path);
  assert.deepEqual(paths(0), [
    '/v1/admin/summary',
    '/v1/admin/orders?limit=50',
    '/v1/admin/orders?limit=50&status=CANCELLED',
    '/v1/admin/orders?limit=50&email=Customer-17%40console.bench.orderstream.local',
    '/v1/admin/orders?limit=50&sku=BENCH-00000',
    '/v1/admin/orders?limit=50&sku=BENCH%209',
    '/v1/admin/orders?limit=50&from=2026-12-05T10%3A00%3A00.000Z&to=2026-12-05T11%3A00%3A00.000Z',
    '/v1/orders/ord_a',
    '/v1/admin/payment-operations?orderId=ord_a',
    '/v1/admin/email-deliveries?orderId=ord_a',
  ]);
  assert.deepEqual(paths(1).slice(-3), ['/v1/orders/ord_b', '/v1/admin/payment-operations?orderId=ord_b', '/v1/admin/email-deliveries?orderId=ord_b']);
  assert.deepEqual(paths(2), paths(0));
  assert.equal(new Set(consoleReads(sample, 0).map((read) => read.name)).size, 10, 'every read has a name of its own');
});

test('when console reads are summed up, then each gets its percentiles, the slowest p95 is named and a failed read is counted, not timed', () => {
  const timed = [
    ...Array.from({ length: 20 }, (_, index) => ({ name: 'summary', ms: 10 + index, status: 200 })),
    ...Array.from({ length: 20 }, (_, index) => ({ name: 'order', ms: 100 + index * 5, status: 200 })),
  ];
  const within = summariseConsoleReads(timed, 200);
  assert.deepEqual(Object.keys(within.byRead), ['summary', 'order']);
  const { count, p50 } = within.byRead.summary ?? assert.fail('the summary is timed');
  assert.deepEqual({ count, p50 }, { count: 20, p50: 19 });
  assert.deepEqual(within.slowest, { name: 'order', p95: 190 });
  assert.equal(within.withinTarget, true);
  assert.equal(summariseConsoleReads(timed, 190).withinTarget, false, 'a p95 at the target is not under it');

  const failing = summariseConsoleReads([...timed, { name: 'order', ms: 5000, status: 500 }, { name: 'summary', ms: 10_000, status: 0 }], 200);
  assert.equal(failing.failed, 2);
  assert.equal(failing.byRead.order?.max, 195, 'a failed read is not timed');
  assert.equal(failing.withinTarget, false);
  assert.deepEqual(summariseConsoleReads([], 200), { byRead: {}, slowest: null, withinTarget: false, failed: 0 });
});

test('when the console scenario is reported, then its sentence gives each read\'s percentiles and the verdict against the target', () => {
  const latency = { p50: 4, p95: 9, p99: 12, max: 20, mean: 5 };
  const result: ScenarioResult = {
    name: 'console', kind: 'scenario', metric: 'req/s', throughput: 150, latencyMs: latency, ratio: null, databaseLoad: null, errors: noErrors(),
    durationSeconds: 4, warmUpSeconds: 0, connections: 1,
    resources: { app: { cpuSeconds: 1, peakRssMb: 100 }, processes: null, loadGenerator: null, postgres: null },
    details: { orders: 100_000, fillSeconds: 21.5, rounds: 60, targetMs: 200, reads: { summary: latency, 'orders?email': { ...latency, p95: 30 } }, slowestRead: 'orders?email', slowestP95Ms: 30, withinTarget: true },
  };
  assert.equal(consoleSummary(result), 'console (the operations console\'s overview and order pages) with 100,000 orders in the database (filled in 21.5 s), ' +
    '60 rounds of its reads one at a time as the admin; request duration p50/p95/p99 ms: summary 4/9/12, orders?email 4/30/12; ' +
    'every read\'s p95 under the 200 ms target (slowest: orders?email, 30 ms).');
  assert.match(consoleSummary({ ...result, details: { ...result.details, withinTarget: false } }), /✗ not every read answered within the 200 ms target/);
});
