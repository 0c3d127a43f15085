import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { WorkLimiter, WorkLimits } from '../../../../platform/concurrency/work-limiter.ts';
import type { Database } from '../../../../platform/database/database.ts';
import { createHttpApp, type HttpApp } from '../../../../platform/http/app.ts';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { messagingMigrations } from '../../../../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../../platform/testing/test-database.ts';
import { createIdentityModule, identityMigrations } from '../../index.ts';

let db: Database;
let drop: () => Promise<void>;
const apps: HttpApp[] = [];
const password = 'correct horse battery';
// One for every module made here: they share the database, and so its signing keys.
const keyEncryptionKey = randomBytes(32).toString('base64');
let mailDir: string;

before(async () => {
  const created = await createTestDatabase(embeddedServerUrl(), [messagingMigrations, identityMigrations]);
  db = created.db;
  drop = created.drop;
  mailDir = await mkdtemp(path.join(tmpdir(), 'orderstream-hashing-mail-'));
});
after(async () => {
  for (const app of apps) await app.close();
  await drop();
  await rm(mailDir, { recursive: true, force: true });
});

/** Identity's routes with these hashing limits, and the limiter every hash goes through. */
async function identityWith(passwordHashing: WorkLimits): Promise<{ app: HttpApp; hashing: WorkLimiter }> {
  const identity = createIdentityModule({
    db, logger: createLogger({ level: 'silent' }), issuer: 'https://id.orderstream.test', audience: 'orderstream-api',
    keyEncryptionKey, passwordHashing,
    accountEmails: { transport: { transport: 'file', outboxDir: mailDir }, from: 'OrderStream <accounts@orderstream.test>' },
  });
  const app = createHttpApp({ logger: createLogger({ level: 'silent' }), bodyLimit: 16 * 1024, routes: [identity.routes], readiness: [] });
  await app.ready();
  apps.push(app);
  const hashing = identity.workLimiters.find((limiter) => limiter.resource === 'password hashing');
  assert.ok(hashing, 'identity exposes its password hashing limiter');
  return { app, hashing };
}

async function registered(app: HttpApp): Promise<string> {
  const email = `user-${randomBytes(4).toString('hex')}@example.com`;
  const response = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: { email, password } });
  assert.equal(response.statusCode, 202, response.body);
  return email;
}

function logIn(app: HttpApp, email: string) {
  return app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password }, remoteAddress: '10.2.2.2' });
}

async function failedSignIns(): Promise<number> {
  const result = await sql<{ count: number }>`select coalesce(sum(failures), 0)::int as count from identity.login_throttle_pairs`.execute(db);
  return result.rows[0]?.count ?? 0;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const startedAt = Date.now();
  while (!condition()) {
    if (Date.now() - startedAt > 5000) assert.fail(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

function assertOverloaded(response: { statusCode: number; headers: Record<string, unknown>; body: string }): void {
  assert.equal(response.statusCode, 503, response.body);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  assert.equal(response.headers['retry-after'], '1');
  const problem = JSON.parse(response.body) as { type: string; status: number; detail: string };
  assert.equal(problem.type, 'https://orderstream.dev/problems/overloaded');
  assert.equal(problem.status, 503);
  assert.match(problem.detail, /password hashing/);
}

describe('password hashing under load', () => {
  test('when every hasher is busy and the hashing queue is full, then a sign-in gets 503 with Retry-After at once, and the one queued signs in once a hasher is free', async () => {
    const { app, hashing } = await identityWith({ concurrency: 1, maxQueued: 1, maxWaitMs: 30_000 });
    const email = await registered(app);
    const failuresBefore = await failedSignIns();
    const release = await hashing.acquire();
    let queuedAnswered = false;
    const queued = logIn(app, email).then((response) => { queuedAnswered = true; return response; });
    await until(() => hashing.stats().queued === 1, 'the first sign-in waits for the busy hasher');

    assertOverloaded(await logIn(app, email));
    // An unknown email is refused the same way, so a refusal tells nothing about which accounts exist.
    assertOverloaded(await logIn(app, 'nobody@example.com'));

    assert.equal(queuedAnswered, false, 'the queued sign-in is not answered while the hasher is busy');
    assert.deepEqual(hashing.stats(), { resource: 'password hashing', concurrency: 1, running: 1, queued: 1, refusedTotal: 2 });
    assert.equal(await failedSignIns(), failuresBefore + 1, 'only the waiting attempt is counted; a refused one is given back, it is not a failed sign-in');
    release();
    const answer = await queued;
    assert.equal(answer.statusCode, 200, answer.body);
    assert.ok(answer.json<{ accessToken: string }>().accessToken.length > 0);
    assert.equal(await failedSignIns(), failuresBefore, 'a success forgets the attempt');
    assert.deepEqual(hashing.stats(), { resource: 'password hashing', concurrency: 1, running: 0, queued: 0, refusedTotal: 2 });
  });

  test('when a sign-in waits for a hasher longer than the wait bound, then it gets 503 with Retry-After', async () => {
    const { app, hashing } = await identityWith({ concurrency: 1, maxQueued: 10, maxWaitMs: 150 });
    const email = await registered(app);
    const release = await hashing.acquire();
    try {
      const startedAt = performance.now();
      assertOverloaded(await logIn(app, email));
      assert.ok(performance.now() - startedAt >= 140, 'refused only after waiting');
      assert.equal(hashing.stats().refusedTotal, 1);
    } finally {
      release();
    }
    assert.equal((await logIn(app, email)).statusCode, 200);
  });
});
