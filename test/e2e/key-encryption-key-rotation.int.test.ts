import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../../src/platform/config/config.ts';
import { createLogger } from '../../src/platform/logging/logger.ts';
import { createTestDatabase, embeddedServerUrl } from '../../src/platform/testing/test-database.ts';
import { createSingleProcess, type SingleProcess } from '../../src/apps/single-process.ts';

// A rotation of IDENTITY_KEY_ENCRYPTION_KEY as docs/security.md (Rotating secrets) tells it, on one
// database and the whole single process restarted at each step: old key → new key with the old one
// as previous → `keys rewrap` → new key alone. Tokens issued at every step keep verifying, sign-in
// keeps working, and a process given only the new key before the rewrap cannot read the old keys.

const oldKey = randomBytes(32).toString('base64');
const newKey = randomBytes(32).toString('base64');
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let running: SingleProcess | undefined;
let documentsDir: string;

before(async () => {
  database = await createTestDatabase(embeddedServerUrl(), []);
  documentsDir = await mkdtemp(path.join(tmpdir(), 'orderstream-documents-'));
});
after(async () => {
  await running?.close();
  await database.drop();
  await rm(documentsDir, { recursive: true, force: true });
});

/** Stops the running process, if any, and starts one with these keys (as IDENTITY_KEY_ENCRYPTION_KEY and _PREVIOUS). */
async function restartWith(current: string, previous?: string): Promise<SingleProcess> {
  await running?.close();
  running = undefined;
  const config = loadConfig({
    LOG_LEVEL: 'silent', RATE_LIMIT_BURST: '1000000', AUTH_RATE_LIMIT_BURST: '1000000', DOCUMENTS_DIR: documentsDir,
    IDENTITY_KEY_ENCRYPTION_KEY: current, ...(previous === undefined ? {} : { IDENTITY_KEY_ENCRYPTION_KEY_PREVIOUS: previous }),
  });
  running = await createSingleProcess({ config, logger: createLogger({ level: 'silent' }), databaseUrl: database.url, keyEncryptionKey: current });
  return running;
}

async function signIn(orderstream: SingleProcess, email: string, password: string): Promise<string> {
  const response = await orderstream.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, password } });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ accessToken: string }>().accessToken;
}

async function assertAccepted(orderstream: SingleProcess, token: string, step: string): Promise<void> {
  const response = await orderstream.app.inject({ method: 'GET', url: '/v1/orders', headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.statusCode, 200, `${step}: ${response.body}`);
}

describe('rotating IDENTITY_KEY_ENCRYPTION_KEY', () => {
  test('when the key is switched with the old one as previous, then tokens keep being signed and verified; after keys rewrap the old key can be dropped and everything still works', async () => {
    let orderstream = await restartWith(oldKey);
    const { customer } = await orderstream.identity.seedDemoUsers();
    const beforeRotation = await signIn(orderstream, customer.email, customer.password);
    await orderstream.identity.rotateSigningKey();
    const secondKeyToken = await signIn(orderstream, customer.email, customer.password);

    orderstream = await restartWith(newKey, oldKey);
    await assertAccepted(orderstream, beforeRotation, 'a token of the first signing key, with new and old keys');
    await assertAccepted(orderstream, secondKeyToken, 'a token of the current signing key, with new and old keys');
    const duringRotation = await signIn(orderstream, customer.email, customer.password);
    await assertAccepted(orderstream, duringRotation, 'a token signed with a key read through the previous key');
    await orderstream.identity.rotateSigningKey();
    const underNewKey = await signIn(orderstream, customer.email, customer.password);
    await assertAccepted(orderstream, underNewKey, 'a token of a signing key stored under the new key');

    // Without the previous key and before the rewrap, the signing keys stored under the old key cannot be read, and the rewrap refuses to half-finish.
    orderstream = await restartWith(newKey);
    await assert.rejects(orderstream.identity.rewrapSigningKeys(), /cannot be decrypted/);

    orderstream = await restartWith(newKey, oldKey);
    assert.deepEqual(await orderstream.identity.rewrapSigningKeys(), { rewrapped: 2, total: 3 });
    assert.deepEqual(await orderstream.identity.rewrapSigningKeys(), { rewrapped: 0, total: 3 }, 'a second rewrap has nothing left to do');

    orderstream = await restartWith(newKey);
    assert.deepEqual(await orderstream.identity.rewrapSigningKeys(), { rewrapped: 0, total: 3 }, 'every stored key now reads under the new key alone');
    for (const [step, token] of Object.entries({ beforeRotation, secondKeyToken, duringRotation, underNewKey })) await assertAccepted(orderstream, token, `${step}, new key alone`);
    await assertAccepted(orderstream, await signIn(orderstream, customer.email, customer.password), 'a new sign-in, new key alone');
    await orderstream.identity.rotateSigningKey();
    await assertAccepted(orderstream, await signIn(orderstream, customer.email, customer.password), 'after a signing-key rotation, new key alone');

    const stored = await sql<{ kid: string; encrypted_private_jwk: string }>`select kid, encrypted_private_jwk from identity.signing_keys`.execute(orderstream.db);
    assert.equal(stored.rows.length, 4);
    assert.ok(stored.rows.every((row) => !row.encrypted_private_jwk.includes('"d"')), 'private halves stay encrypted');
    const audited = await sql<{ after: { rewrapped: number; total: number } }>`
      select after from audit.entries where action = 'identity.signing-keys-rewrapped' order by id`.execute(orderstream.db);
    assert.deepEqual(audited.rows.map((row) => row.after.rewrapped), [2, 0, 0], 'each rewrap that ran is in the audit trail; the refused one left nothing');
  });
});
