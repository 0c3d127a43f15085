import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../src/platform/database/database.ts';
import type { HttpApp } from '../../src/platform/http/app.ts';
import { csvUpload } from '../../src/modules/jobs/testing/multipart.ts';
import { startJobsHarness, type JobsHarness } from './harness/jobs-harness.ts';

const admin = { 'x-dev-customer-id': 'admin-1', 'x-dev-roles': 'admin' };
const header = 'sku,name,description,price,currency,stock\n';

let app: HttpApp;
let base: string;
let db: Database;

let harness: JobsHarness;

before(async () => {
  harness = await startJobsHarness({ jobEvents: { pollMs: 20, heartbeatMs: 50, maxStreams: 2, maxLifetimeMs: 60_000 } }, { listen: true });
  ({ app, db } = harness);
  base = harness.base ?? '';
});
after(async () => { await harness.stop(); });

interface SentEvent { id: number; event: string; data: { status: string; progress: { done: number; total: number | null }; counts: { created: number; updated: number; rejected: number } } }

/** Reads a whole event stream (until the server closes it), split into its events and its heartbeat comments. */
async function readStream(response: Response): Promise<{ events: SentEvent[]; heartbeats: number }> {
  const blocks = (await response.text()).split('\n\n').filter((block) => block !== '');
  const events = blocks.filter((block) => !block.startsWith(':')).map((block) => {
    const field = (name: string) => [...block.matchAll(/^(\w+): (.*)$/gm)].find((match) => match[1] === name)?.[2];
    return { id: Number(field('id')), event: field('event') ?? '', data: JSON.parse(field('data') ?? '{}') as SentEvent['data'] };
  });
  return { events, heartbeats: blocks.filter((block) => block === ': heartbeat').length };
}

async function upload(content: string): Promise<string> {
  const { payload, headers } = csvUpload(content);
  const response = await app.inject({ method: 'POST', url: '/v1/imports', payload, headers: { ...admin, ...headers } });
  assert.equal(response.statusCode, 202, response.body);
  return response.json<{ id: string }>().id;
}

/** A queued job no worker will take (it was never put on a queue), so its stream stays open. */
async function idleJob(): Promise<string> {
  const id = randomUUID();
  await sql`insert into jobs.jobs (id, kind, status, created_at, updated_at) values (${id}, 'catalog-import', 'queued', now(), now())`.execute(db);
  return id;
}

const rows = (count: number) => Array.from({ length: count }, (_, index) => `EV-${String(index)},Item ${String(index)},,100,EUR,1\n`).join('');

describe('GET /v1/jobs/{id}/events', () => {
  test('when an admin follows an import, then ordered events end with the final counts and the stream closes; Last-Event-ID resumes after it', async () => {
    const id = await upload(header + rows(30));
    const response = await fetch(`${base}/v1/jobs/${id}/events`, { headers: admin });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    const { events } = await readStream(response);

    const [first, last] = [events[0], events.at(-1)];
    assert.ok(events.length >= 2 && first !== undefined && last !== undefined, JSON.stringify(events));
    assert.equal(first.event, 'state');
    assert.equal(last.event, 'completed');
    assert.deepEqual(last.data.counts, { created: 30, updated: 0, rejected: 0 });
    assert.deepEqual(last.data.progress, { done: 30, total: 30 });
    for (const [index, event] of events.entries()) {
      const previous = events[index - 1];
      if (previous === undefined) continue;
      assert.ok(event.id > previous.id, 'ids only grow');
      assert.ok(event.data.progress.done >= previous.data.progress.done, 'progress never goes back');
    }

    const resumed = await fetch(`${base}/v1/jobs/${id}/events`, { headers: { ...admin, 'last-event-id': String(first.id) } });
    const later = (await readStream(resumed)).events;
    assert.deepEqual(later.map((event) => event.event), ['completed'], 'only the state reached since, not the events already seen');
    assert.ok((later[0]?.id ?? 0) > first.id);

    const seenToTheEnd = await fetch(`${base}/v1/jobs/${id}/events`, { headers: { ...admin, 'last-event-id': String(last.id) } });
    assert.equal(seenToTheEnd.status, 204);
  });

  test('when a job does not change, then heartbeats arrive at the configured interval; over the cap, 503 with Retry-After', async () => {
    const id = await idleJob();
    const stop = new AbortController();
    const first = await fetch(`${base}/v1/jobs/${id}/events`, { headers: admin, signal: stop.signal });
    const second = await fetch(`${base}/v1/jobs/${id}/events`, { headers: admin, signal: stop.signal });
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    const refused = await fetch(`${base}/v1/jobs/${id}/events`, { headers: admin });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);

    const reader = first.body?.getReader();
    assert.ok(reader !== undefined);
    let text = '';
    while ((text.match(/^: heartbeat$/gm) ?? []).length < 3) {
      // The body's chunks are typed loosely by the fetch types; they are bytes.
      const chunk = await reader.read() as { done: boolean; value?: Uint8Array };
      assert.ok(!chunk.done, 'the stream stays open');
      text += new TextDecoder().decode(chunk.value);
    }
    assert.match(text, /^id: \d+\nevent: state\ndata: \{"id":"[^"]+","status":"queued"/);
    stop.abort();
    await reader.cancel().catch(() => undefined);
  });

  test('when the job is unknown, then 404 problem+json before any stream starts', async () => {
    const response = await fetch(`${base}/v1/jobs/${randomUUID()}/events`, { headers: admin });
    assert.equal(response.status, 404);
    assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  });

  test('when a customer or nobody asks, then 403 and 401', async () => {
    const id = await idleJob();
    assert.equal((await fetch(`${base}/v1/jobs/${id}/events`, { headers: { 'x-dev-customer-id': 'customer-1' } })).status, 403);
    assert.equal((await fetch(`${base}/v1/jobs/${id}/events`)).status, 401);
  });
});
