import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../src/platform/database/database.ts';
import type { HttpApp } from '../../src/platform/http/app.ts';
import { csvUpload } from '../../src/modules/jobs/testing/multipart.ts';
import { startJobsHarness, type JobsHarness } from './harness/jobs-harness.ts';

// An import file may hold one line of many megabytes. Whatever of it an error quotes (a problem's
// detail and errors, a row error kept with the job) must stay a short excerpt, not the line itself.

const admin = { 'x-dev-customer-id': 'admin-1', 'x-dev-roles': 'admin' };
const header = 'sku,name,description,price,currency,stock\n';
const megabytes = 4 * 1024 * 1024;
/** Far above any excerpt (200 characters and its length), far below the line it is cut from. */
const smallBytes = 8 * 1024;

let app: HttpApp;
let db: Database;
let documentsDir: string;

let harness: JobsHarness;

before(async () => {
  harness = await startJobsHarness({ importMaxBytes: 16 * 1024 * 1024, importBatchSize: 10 });
  ({ app, db, documentsDir } = harness);
});
after(async () => { await harness.stop(); });

async function jobCount(): Promise<number> {
  return (await sql<{ count: number }>`select count(*)::int as count from jobs.jobs`.execute(db)).rows[0]?.count ?? -1;
}

describe('values of an import that its errors quote', () => {
  test('when the file is one line of megabytes, then the 400 problem+json quotes only its start and its length, and nothing is stored or queued', async () => {
    const line = 'sku'.padEnd(megabytes, 'x');
    const { payload, headers } = csvUpload(line);
    const jobsBefore = await jobCount();
    const response = await app.inject({ method: 'POST', url: '/v1/imports', payload, headers: { ...admin, ...headers } });
    assert.equal(response.statusCode, 400);
    assert.match(response.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.ok(response.body.length < smallBytes, `the answer is ${response.body.length} bytes`);
    const problem = response.json<{ detail: string; errors: { field: string; message: string }[] }>();
    assert.match(problem.detail, new RegExp(`; it is skux{197}… \\(${megabytes} characters\\)$`));
    assert.deepEqual(problem.errors.map((error) => [error.field, error.message]), [['file', problem.detail]]);
    assert.equal(await jobCount(), jobsBefore);
    assert.deepEqual(await readdir(join(documentsDir, 'imports')).catch(() => []), []);
  });

  test('when rows hold cells of megabytes, then the job rejects them by line with short reasons, kept short in the database and the error report', async () => {
    const huge = 'Q'.repeat(megabytes);
    const file = `${header}ECHO-1,Good,,100,EUR,1\nECHO-2,Huge currency,,100,${huge},1\nECHO-3,Bad ${huge}"quote,,100,EUR,1\n`;
    const { payload, headers } = csvUpload(file);
    const accepted = await app.inject({ method: 'POST', url: '/v1/imports', payload, headers: { ...admin, ...headers } });
    assert.equal(accepted.statusCode, 202, accepted.body.slice(0, 500));
    const { statusUrl } = accepted.json<{ statusUrl: string }>();
    let job: { status: string; counts: { rejected: number }; errors?: { line: number; reason: string }[] } | undefined;
    let body = '';
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
      body = (await app.inject({ method: 'GET', url: statusUrl, headers: admin })).body;
      job = JSON.parse(body) as typeof job;
      if (job !== undefined && ['succeeded', 'failed', 'cancelled'].includes(job.status)) break;
    }
    assert.equal(job?.status, 'succeeded', body.slice(0, 500));
    assert.equal(job.counts.rejected, 2);
    assert.ok(body.length < smallBytes, `the job is ${body.length} bytes`);
    assert.deepEqual(job.errors?.map((error) => error.line), [3, 4]);
    assert.match(job.errors[0]?.reason ?? '', new RegExp(`^currency "Q{200}… \\(${megabytes} characters\\)" is not an ISO 4217 code$`));
    assert.match(job.errors[1]?.reason ?? '', new RegExp(`^cannot be read: .{1,200}… \\(\\d+ characters\\)$`));
    const stored = await sql<{ longest: number }>`select max(length(reason))::int as longest from jobs.row_errors where job_id = ${statusUrl.split('/').at(-1) ?? ''}`.execute(db);
    assert.ok((stored.rows[0]?.longest ?? Infinity) < 400, `the longest stored reason is ${stored.rows[0]?.longest} characters`);
    const report = await app.inject({ method: 'GET', url: `${statusUrl}/errors.csv`, headers: admin });
    assert.equal(report.statusCode, 200);
    assert.ok(report.body.length < smallBytes, `the error report is ${report.body.length} bytes`);
  });
});
