import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newJob, type Job } from '../domain/job.ts';
import { InMemoryJobs } from '../testing/in-memory-jobs.ts';
import { FollowJob } from './follow-job.ts';

const start = new Date('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(start.getTime() + ms);

function setup(): { jobs: InMemoryJobs; follow: FollowJob; job: Job } {
  const jobs = new InMemoryJobs();
  const job = newJob({ id: 'job-1', kind: 'catalog-import', requestId: null, now: start });
  jobs.jobs.set(job.id, job);
  return { jobs, follow: new FollowJob({ jobs, pollMs: 1 }), job };
}

describe('FollowJob', () => {
  test('when a job runs to its end, then one event per change, with growing ids, ending with the terminal one', async () => {
    const { jobs, follow, job } = setup();
    const events = follow.events(job, { lastEventId: 0, signal: new AbortController().signal });
    const kinds: string[] = [];
    const ids: number[] = [];
    const take = async () => {
      const next = await events.next();
      assert.ok(next.done !== true);
      kinds.push(next.value.kind);
      ids.push(next.value.id);
    };
    await take();
    jobs.jobs.set(job.id, { ...job, status: 'running', updatedAt: at(10) });
    await take();
    // The same write time as before: the id still grows.
    jobs.jobs.set(job.id, { ...job, status: 'running', progress: { done: 3, total: 6 }, updatedAt: at(10) });
    await take();
    jobs.jobs.set(job.id, { ...job, status: 'succeeded', progress: { done: 6, total: 6 }, updatedAt: at(20) });
    await take();

    assert.deepEqual(kinds, ['state', 'state', 'progress', 'completed']);
    assert.deepEqual(ids, [start.getTime(), start.getTime() + 10, start.getTime() + 11, start.getTime() + 20]);
    assert.equal((await events.next()).done, true);
  });

  test('when a follower resumes after the last change, then nothing is sent until the job changes again', async () => {
    const { jobs, follow, job } = setup();
    const running: Job = { ...job, status: 'running', updatedAt: at(10) };
    jobs.jobs.set(job.id, running);
    const events = follow.events(running, { lastEventId: at(10).getTime(), signal: new AbortController().signal });
    const next = events.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    jobs.jobs.set(job.id, { ...running, status: 'cancelled', updatedAt: at(30) });
    const event = await next;
    assert.ok(event.done !== true);
    assert.deepEqual([event.value.kind, event.value.job.status, event.value.id], ['failed', 'cancelled', at(30).getTime()]);
    assert.equal(FollowJob.isSeenToItsEnd(event.value.job, event.value.id), true);
    assert.equal(FollowJob.isSeenToItsEnd(event.value.job, at(10).getTime()), false);
  });

  test('when the follower leaves, then the events end without another read', async () => {
    const { follow, job } = setup();
    const stop = new AbortController();
    const events = follow.events(job, { lastEventId: 0, signal: stop.signal });
    const first = await events.next();
    assert.ok(first.done !== true);
    assert.equal(first.value.kind, 'state');
    stop.abort();
    assert.equal((await events.next()).done, true);
  });

  test('when the job is unknown, then current() refuses it', async () => {
    const { follow } = setup();
    await assert.rejects(follow.current('nope'), { name: 'JobNotFoundError' });
  });
});
