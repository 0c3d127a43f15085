import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../platform/config/config.ts';
import { createLogger } from '../platform/logging/logger.ts';
import { createTestDatabase, embeddedServerUrl } from '../platform/testing/test-database.ts';
import { buildAsyncApiDocument } from './asyncapi.ts';
import { createSingleProcess, type SingleProcess } from './single-process.ts';

let database: { url: string; drop: () => Promise<void> };
let files: string;
let orderstream: SingleProcess;

before(async () => {
  database = await createTestDatabase(embeddedServerUrl(), []);
  files = await mkdtemp(path.join(tmpdir(), 'orderstream-asyncapi-'));
  orderstream = await createSingleProcess({
    config: loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: database.url, DOCUMENTS_DIR: files, EMAIL_OUTBOX_DIR: files }),
    logger: createLogger({ level: 'silent' }), databaseUrl: database.url, keyEncryptionKey: randomBytes(32).toString('base64'),
  });
});
after(async () => {
  await orderstream.close();
  await database.drop();
  await rm(files, { recursive: true, force: true });
});

describe('/asyncapi.json in the single process', () => {
  test('when anyone asks for it at the edge, without a token, then it gets the AsyncAPI document as JSON', async () => {
    const response = await orderstream.app.inject({ method: 'GET', url: '/asyncapi.json' });
    assert.equal(response.statusCode, 200, response.body);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.deepEqual(response.json(), buildAsyncApiDocument());
  });
});
