import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { csvUpload } from '../../src/modules/jobs/testing/multipart.ts';
import { startJobsHarness, type JobsHarness } from './harness/jobs-harness.ts';

const admin = { 'x-dev-customer-id': 'admin-1', 'x-dev-roles': 'admin' };
/** Far longer than the test waits: a job found by polling would not start within it. */
const pollIntervalSeconds = 600;

let harness: JobsHarness;

before(async () => { harness = await startJobsHarness({ jobPollIntervalSeconds: pollIntervalSeconds }); });
after(async () => { await harness.stop(); });

test('when jobs are queued while the workers idle between polls, then each is woken by the queueing and runs at once', async () => {
  // The workers' first poll, at start, found nothing; the next is ten minutes away.
  for (const round of [1, 2]) {
    const { payload, headers } = csvUpload(`sku,name,description,price,currency,stock\nWAKE-${round},Woken ${round},,1.00,EUR,${round}\n`);
    const uploaded = await harness.app.inject({ method: 'POST', url: '/v1/imports', payload, headers: { ...admin, ...headers } });
    assert.equal(uploaded.statusCode, 202, uploaded.body);
    const { id } = uploaded.json<{ id: string }>();
    const deadline = Date.now() + 60_000;
    let status = 'queued';
    while (status !== 'succeeded' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await harness.app.inject({ method: 'GET', url: `/v1/jobs/${id}`, headers: admin })).json<{ status: string }>().status;
    }
    assert.equal(status, 'succeeded', `import ${round} is still ${status}: it waited for a poll`);
  }
});
