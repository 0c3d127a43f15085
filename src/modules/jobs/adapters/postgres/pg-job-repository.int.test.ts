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

test('when new SKUs are recorded again by a later attempt, then the earlier record stays; the checkpoint after them clears it', async () => {
  const jobs = new PgJobRepository(db);
  const now = new Date();
  const job = newJob({ id: 'import-new-skus', kind: 'catalog-import', requestId: null, inputKey: 'imports/x.csv', now });
  await db.$extendTables<JobsTables>().insertInto('jobs.jobs').values(toJobRow(job)).execute();
  await jobs.startAttempt(job.id, now);

  assert.deepEqual([...await jobs.recordNewSkus(job.id, ['A-1', 'A-2'])].sort(), ['A-1', 'A-2']);
  // The crashed attempt created; the next finds them and records only what is still new.
  assert.deepEqual([...await jobs.recordNewSkus(job.id, ['A-3'])].sort(), ['A-1', 'A-2', 'A-3']);

  assert.equal(await jobs.saveProgress(job.id, { checkpoint: 3, done: 3, counts: { created: 3, updated: 0, rejected: 0 }, newErrors: [] }, now), true);
  assert.deepEqual([...await jobs.recordNewSkus(job.id, [])], []);
});
