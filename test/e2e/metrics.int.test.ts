import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { csvUpload } from '../../src/modules/jobs/testing/multipart.ts';
import { sampleValue } from '../../src/platform/testing/prometheus-text.ts';
import {
  adminHeaders, eventually, placeOrder, startFulfilment, stockProduct, waitForTerminal, type FulfilmentHarness,
} from './harness/fulfilment-harness.ts';

let harness: FulfilmentHarness;
let metricsUrl: string;

before(async () => {
  harness = await startFulfilment();
  // The operations listener, as `orderstream start` opens it (OPS_PORT), on a free port.
  metricsUrl = `${(await harness.orderstream.ops.listen({ host: '127.0.0.1', port: 0 })).url}/metrics`;
});
after(async () => { await harness.close(); });

async function scrape(): Promise<string> {
  const response = await fetch(metricsUrl);
  assert.equal(response.status, 200);
  return response.text();
}

/** One sample of the exposition; 0 when the series does not exist yet (a counter never incremented). */
const valueIn = (text: string, name: string, labels: Record<string, string> = {}) => sampleValue(text, name, labels) ?? 0;

/** The counters the scripted flow moves, and by exactly how much. */
const expectedMoves: readonly [name: string, labels: Record<string, string>, delta: number][] = [
  ['orderstream_http_request_duration_seconds_count', { method: 'POST', route: '/v1/orders', status_code: '202' }, 2],
  ['orderstream_http_request_duration_seconds_count', { method: 'POST', route: '/v1/imports', status_code: '202' }, 1],
  ['orderstream_orders_placed_total', {}, 2],
  ['orderstream_orders_finished_total', { status: 'CONFIRMED' }, 1],
  ['orderstream_orders_finished_total', { status: 'CANCELLED' }, 1],
  ['orderstream_order_cancellations_total', { cause: 'authorize-payment-failed' }, 1],
  ['orderstream_orders_refused_total', {}, 0],
  ['orderstream_saga_step_duration_seconds_count', { step: 'reserve-stock', outcome: 'succeeded' }, 2],
  ['orderstream_saga_step_duration_seconds_count', { step: 'authorize-payment', outcome: 'succeeded' }, 1],
  ['orderstream_saga_step_duration_seconds_count', { step: 'authorize-payment', outcome: 'failed' }, 1],
  ['orderstream_saga_step_duration_seconds_count', { step: 'capture-payment', outcome: 'succeeded' }, 1],
  ['orderstream_saga_step_duration_seconds_count', { step: 'commit-stock', outcome: 'succeeded' }, 1],
  ['orderstream_job_attempt_duration_seconds_count', { kind: 'catalog-import', outcome: 'completed' }, 1],
  // The confirmed order's invoice is recorded, to be drawn when downloaded, not a job.
  ['orderstream_job_attempt_duration_seconds_count', { kind: 'invoice', outcome: 'completed' }, 0],
  ['orderstream_job_attempt_duration_seconds_count', { kind: 'catalog-import', outcome: 'failed' }, 0],
  ['orderstream_inbox_duplicates_total', { consumer: 'orders.saga' }, 0],
  ['orderstream_messages_handled_total', { consumer: 'jobs.invoice-on-confirmation' }, 1],
];

describe('metrics of a scripted flow', () => {
  test('when one order is confirmed, one is declined and one catalogue import runs, then each counter moves by exactly the expected amount', async () => {
    await stockProduct(harness.orderstream, 'METRIC-1', 10);
    const before = await scrape();

    const confirmed = await placeOrder(harness.orderstream, 'cus_metrics', [{ sku: 'METRIC-1', quantity: 1 }], 'tok_visa');
    const declined = await placeOrder(harness.orderstream, 'cus_metrics', [{ sku: 'METRIC-1', quantity: 2 }], 'tok_declined');
    assert.equal(confirmed.statusCode, 202, confirmed.body);
    assert.equal(declined.statusCode, 202, declined.body);
    const { payload, headers } = csvUpload('sku,name,description,price,currency,stock\nMETRIC-IMPORT-1,Imported,,999,EUR,5\nMETRIC-IMPORT-2,Also imported,,1999,EUR,7\n');
    const imported = await harness.orderstream.app.inject({ method: 'POST', url: '/v1/imports', payload, headers: { ...adminHeaders, ...headers } });
    assert.equal(imported.statusCode, 202, imported.body);
    const jobId = imported.json<{ id: string }>().id;

    const outcome = await waitForTerminal(harness.db, [confirmed.json<{ id: string }>().id, declined.json<{ id: string }>().id]);
    assert.deepEqual([...outcome.values()].map((order) => order.status).sort(), ['CANCELLED', 'CONFIRMED']);
    await eventually(async () => {
      const job = await harness.orderstream.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}`, headers: adminHeaders });
      return job.json<{ status: string }>().status === 'succeeded';
    }, 'the import job to succeed');
    // Counters are moved once the work committed, a moment after the database shows it; then they must settle exactly.
    await eventually(async () => {
      const now = await scrape();
      return expectedMoves.every(([name, labels, delta]) => valueIn(now, name, labels) - valueIn(before, name, labels) >= delta);
    }, 'every counter to move');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await scrape();

    const moved = expectedMoves.map(([name, labels]) => valueIn(after, name, labels) - valueIn(before, name, labels));
    assert.deepEqual(
      expectedMoves.map(([name, labels], index) => `${name}${JSON.stringify(labels)} ${moved[index]}`),
      expectedMoves.map(([name, labels, delta]) => `${name}${JSON.stringify(labels)} ${delta}`),
    );
    // What is read at scrape time reflects the drained backlog and the pool.
    assert.equal(sampleValue(after, 'orderstream_outbox_unsent_messages'), 0);
    assert.equal(sampleValue(after, 'orderstream_db_pool_max_connections'), 20);
    // Counted by the orders module every 250 ms, so the drained backlog shows within the half second waited above.
    assert.equal(sampleValue(after, 'orderstream_order_backlog'), 0);
    assert.equal(sampleValue(after, 'orderstream_order_backlog_limit'), 5000);
    assert.ok(sampleValue(after, 'orderstream_jobs_queued', { kind: 'catalog-import' }) !== undefined, 'job queue depth is exported');
    for (const resource of ['password hashing', 'PDF rendering']) {
      assert.equal(sampleValue(after, 'orderstream_work_limiter_running', { resource }), 0, `${resource} is idle again`);
      assert.equal(sampleValue(after, 'orderstream_work_limiter_refused_total', { resource }), 0, `${resource} refused nothing`);
    }
    assert.equal(valueIn(after, 'orderstream_metrics_scrape_errors_total', { source: 'database' }), 0);
  });

  test('when /metrics is asked of the public API, then it is not there: metrics are served on the operations listener only', async () => {
    const response = await harness.orderstream.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 404);
  });
});
