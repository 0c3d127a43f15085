import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database } from '../../../../platform/database/database.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { newJob } from '../../domain/job.ts';
import { jobsMigrations } from '../../index.ts';
import type { JobsTables } from './jobs-tables.ts';
import { PgJobRepository, toJobRow } from './pg-job-repository.ts';

let db: Database;
let drop: () => Promise<void>;

before(async () => { ({ db, drop } = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, jobsMigrations])); });
after(async () => { await drop(); });

test('when a chunk\'s progress is saved, then checkpoint, counts and row errors are kept; once the job is cancelled, it is refused', async () => {
  const jobs = new PgJobRepository(db);
  const now = new Date();
  const job = newJob({ id: 'import-progress', kind: 'catalog-import', requestId: null, inputKey: 'imports/x.csv', now });
  await db.$extendTables<JobsTables>().insertInto('jobs.jobs').values(toJobRow(job)).execute();
  await jobs.startAttempt(job.id, now);

  const newErrors = [{ line: 3, reason: 'name must not be empty', faults: [{ column: 'name', reason: 'must not be empty' }] }];
  assert.equal(await jobs.saveProgress(job.id, { checkpoint: 3, done: 3, counts: { created: 2, updated: 0, rejected: 1 }, newErrors }, now), true);
  const saved = await jobs.findById(job.id);
  assert.equal(saved?.checkpoint, 3);
  assert.deepEqual(saved.counts, { created: 2, updated: 0, rejected: 1 });
  assert.deepEqual(await jobs.rowErrors(job.id), newErrors);

  await jobs.cancel(job.id, now);
  assert.equal(await jobs.saveProgress(job.id, { checkpoint: 6, done: 6, counts: { created: 5, updated: 0, rejected: 1 }, newErrors: [] }, now), false);
  assert.equal((await jobs.findById(job.id))?.checkpoint, 3);
});
