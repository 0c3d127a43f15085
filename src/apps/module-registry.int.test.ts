import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../platform/config/config.ts';
import type { HttpApp } from '../platform/http/app.ts';
import { createLogger } from '../platform/logging/logger.ts';
import { InProcessTransport } from '../platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../platform/testing/test-database.ts';
import { routePolicies } from './gateway/route-policies.ts';
import { isModuleName, moduleNames } from './module-registry.ts';
import { createServices } from './services.ts';
import { createSingleProcess } from './single-process.ts';

/*
 * The route table, made from the registry, against the routes the modules really register: each
 * service serves exactly the routes the gateway sends to it, and the single process serves every
 * route of the table (it refuses to start with a route the table lacks, src/platform/http/edge.test.ts).
 */

const logger = createLogger({ level: 'silent' });
const keyEncryptionKey = randomBytes(32).toString('base64');
let database: { url: string; drop: () => Promise<void> };
let files: string;

before(async () => {
  database = await createTestDatabase(embeddedServerUrl(), []);
  files = await mkdtemp(path.join(tmpdir(), 'orderstream-registry-'));
});
after(async () => {
  await database.drop();
  await rm(files, { recursive: true, force: true });
});

// With a webhook secret, payments registers its Stripe webhook route too (it is left out unless configured).
const settings = () => ({ LOG_LEVEL: 'silent', DATABASE_URL: database.url, DOCUMENTS_DIR: files, EMAIL_OUTBOX_DIR: files, STRIPE_WEBHOOK_SECRET: 'whsec_registry_test' });

/** The module routes of the table that `app` registers. */
function servedModuleRoutes(app: HttpApp): string[] {
  return routePolicies
    .filter((policy) => isModuleName(policy.upstream) && app.hasRoute({ method: policy.method, url: policy.url }))
    .map((policy) => `${policy.method} ${policy.url}`);
}

describe('the route table against the modules\' routes', () => {
  test('when each service role runs alone, then it serves exactly the routes the gateway sends to it', async () => {
    const config = loadConfig({
      ...settings(), GATEWAY_SECRET: randomBytes(32).toString('base64'),
      // Only named, never called: the roles that need another module's client get it over HTTP.
      CATALOG_SERVICE_URL: 'http://127.0.0.1:1', INVENTORY_SERVICE_URL: 'http://127.0.0.1:1', ORDERS_SERVICE_URL: 'http://127.0.0.1:1',
    });
    for (const role of moduleNames) {
      const service = await createServices({ config, logger, roles: [role], keyEncryptionKey, transport: new InProcessTransport() });
      try {
        await service.app.ready();
        const routed = routePolicies.filter((policy) => policy.upstream === role).map((policy) => `${policy.method} ${policy.url}`);
        assert.deepEqual(servedModuleRoutes(service.app), routed, role);
      } finally {
        await service.close();
      }
    }
  });

  test('when the single process runs at the edge, then it starts, and serves every route of the table', async () => {
    const orderstream = await createSingleProcess({ config: loadConfig(settings()), logger, databaseUrl: database.url, keyEncryptionKey });
    try {
      await orderstream.app.ready();
      const missing = routePolicies
        .filter((policy) => !policy.url.endsWith('*') && !orderstream.app.hasRoute({ method: policy.method, url: policy.url }))
        .map((policy) => `${policy.method} ${policy.url}`);
      assert.deepEqual(missing, []);
    } finally {
      await orderstream.close();
    }
  });
});
