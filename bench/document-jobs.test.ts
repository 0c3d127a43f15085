import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { breakdownOf, followJob, jobFailure, MemoryPeak, perSecond, RecordCounter, type JobView } from './document-jobs.ts';

const encoder = new TextEncoder();

function job(overrides: Partial<JobView> = {}): JobView {
  return { id: 'job_1', status: 'succeeded', progress: { done: 100_000, total: 100_000 }, counts: { created: 100_000, updated: 0, rejected: 0 }, attempts: 1, lastError: null, ...overrides };
}

test('when a CSV export is counted chunk by chunk, then a line break or a doubled quote inside a quoted cell ends no record, wherever the chunks split', () => {
  const file = 'order_id,lines\r\nord_1,"BENCH-1 x 1; ""odd"" name\r\nsecond line"\r\nord_2,plain\r\nord_3,"no line break at the end"';
  for (let split = 0; split <= file.length; split += 1) {
    const counter = new RecordCounter('csv');
    counter.add(encoder.encode(file.slice(0, split)));
    counter.add(encoder.encode(file.slice(split)));
    assert.equal(counter.records, 4, `split at ${split}`);
  }
});

test('when a JSON Lines export is counted, then every line is a record, quotes and all, and an empty file holds none', () => {
  const counter = new RecordCounter('jsonl');
  counter.add(encoder.encode('{"order_id":"ord_1","reason":"said \\"no\\"\\nthen left"}\n{"order_id":"ord_2"}\n'));
  assert.equal(counter.records, 2);
  assert.equal(new RecordCounter('jsonl').records, 0);
});

test('when a job ended, then only a success is no failure, and a failure names the job, its progress and its last error', () => {
  assert.equal(jobFailure('import', job()), undefined);
  assert.equal(jobFailure('import', job({ status: 'failed', attempts: 3, progress: { done: 4000, total: null }, lastError: 'the catalog did not answer' })),
    'import: job job_1 ended failed after 3 attempts at 4000 of ? rows: the catalog did not answer');
  assert.match(jobFailure('export', job({ status: 'cancelled' })) ?? '', /^export: job job_1 ended cancelled/);
});

test('when a followed job runs and then fails, then each poll carries the token and the failure is thrown with its last error', async () => {
  const answers = [job({ status: 'queued' }), job({ status: 'running' }), job({ status: 'failed', lastError: 'disk full' })];
  const tokens: (string | undefined)[] = [];
  const server = createServer((request, response) => {
    tokens.push(request.headers.authorization);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answers.shift() ?? job()));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await assert.rejects(followJob({ scenario: 'import', baseUrl, token: 't0k', statusUrl: '/v1/jobs/job_1', pollMs: 1, timeoutMs: 5000 }), /import: job job_1 ended failed .*: disk full/);
    assert.deepEqual(tokens, ['Bearer t0k', 'Bearer t0k', 'Bearer t0k']);
    const done = await followJob({ scenario: 'import', baseUrl, token: 't0k', statusUrl: '/v1/jobs/job_1', pollMs: 1, timeoutMs: 5000 });
    assert.deepEqual({ status: done.job.status, polls: done.polls }, { status: 'succeeded', polls: 1 });
  } finally {
    server.close();
  }
});

test('when a rate is taken over no time, then it is 0, not infinite', () => {
  assert.equal(perSecond(100_000, 4), 25_000);
  assert.equal(perSecond(100_000, 0), 0);
});

test('when memory is watched over a window that grows the heap, then the peak is at least the start and splits into heap and the rest', async () => {
  const peak = new MemoryPeak(5);
  const before = process.memoryUsage().rss;
  peak.start();
  const held = Array.from({ length: 200_000 }, (_, index) => ({ index, text: `row ${index}` }));
  await new Promise((resolve) => setTimeout(resolve, 20));
  const atPeak = peak.stop();

  assert.equal(held.length, 200_000);
  assert.ok(atPeak.rssMb * 1024 * 1024 >= before * 0.99, `${atPeak.rssMb} MB is not the peak`);
  assert.ok(atPeak.heapUsedMb > 0 && atPeak.heapUsedMb <= atPeak.heapTotalMb);
  assert.deepEqual(Object.keys(breakdownOf(process.memoryUsage())), ['rssMb', 'heapTotalMb', 'heapUsedMb', 'externalMb', 'arrayBuffersMb']);
});
