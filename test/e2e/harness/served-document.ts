import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSingleProcess } from '../../../src/apps/single-process.ts';
import { loadConfig } from '../../../src/platform/config/config.ts';
import { createLogger } from '../../../src/platform/logging/logger.ts';
import { createTestDatabase, embeddedServerUrl } from '../../../src/platform/testing/test-database.ts';

/**
 * A document the single process serves (`/openapi.json`, `/asyncapi.json`), as its app answers it,
 * built on a database of its own that is dropped afterwards.
 */
export async function servedDocument(url: string): Promise<unknown> {
  const database = await createTestDatabase(embeddedServerUrl(), []);
  try {
    const orderstream = await createSingleProcess({
      config: loadConfig({ LOG_LEVEL: 'silent' }), logger: createLogger({ level: 'silent' }), databaseUrl: database.url,
      keyEncryptionKey: randomBytes(32).toString('base64'),
    });
    try {
      const served = await orderstream.app.inject({ method: 'GET', url });
      assert.equal(served.statusCode, 200, `${url}: ${served.body}`);
      return served.json();
    } finally {
      await orderstream.close();
    }
  } finally {
    await database.drop();
  }
}
