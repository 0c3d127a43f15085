import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../../src/platform/config/config.ts';
import { createLogger } from '../../../src/platform/logging/logger.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../src/platform/testing/test-database.ts';
import { createSingleProcess } from '../../../src/apps/single-process.ts';
import { generatedTypes, snapshotText } from './openapi-snapshot.ts';

const packageDir = path.resolve(import.meta.dirname, '..');
const regenerate = 'run `npm run generate:client` and commit packages/client/openapi.json and src/openapi-types.ts';

test('when the app serves /openapi.json, then it equals the snapshot the client\'s types were generated from, and the types are what the generator makes of it', async () => {
  const database = await createTestDatabase(embeddedServerUrl(), []);
  const orderstream = await createSingleProcess({
    config: loadConfig({ LOG_LEVEL: 'silent' }), logger: createLogger({ level: 'silent' }), databaseUrl: database.url,
    keyEncryptionKey: randomBytes(32).toString('base64'),
  });
  try {
    const served = await orderstream.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(served.statusCode, 200);
    const snapshot = await readFile(path.join(packageDir, 'openapi.json'), 'utf8');
    assert.ok(snapshotText(served.json()) === snapshot, `/openapi.json differs from packages/client/openapi.json: ${regenerate}`);
    const types = await readFile(path.join(packageDir, 'src/openapi-types.ts'), 'utf8');
    assert.ok(types === await generatedTypes(snapshot), `packages/client/src/openapi-types.ts was not generated from packages/client/openapi.json: ${regenerate}`);
  } finally {
    await orderstream.close();
    await database.drop();
  }
});
