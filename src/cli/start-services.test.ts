import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createServices, serviceRoles, type ServiceRole } from '../apps/services.ts';
import { loadConfig } from '../platform/config/config.ts';
import { memoryLogger } from '../platform/testing/memory-logger.ts';
import { servicesConfigurationMistake } from './start-services.ts';

const complete = { GATEWAY_SECRET: 'a-gateway-secret-of-enough-length-0123456789', DATABASE_URL: 'postgres://127.0.0.1:1/unused', KAFKA_BROKERS: '127.0.0.1:1' };

function mistakeOf(env: Record<string, string | undefined>, roles: readonly ServiceRole[]): string | undefined {
  return servicesConfigurationMistake(loadConfig(env), roles);
}

describe('the configuration a service role needs', () => {
  test('when everything a role needs is set, then there is no mistake', () => {
    assert.equal(mistakeOf(complete, ['identity']), undefined);
    assert.equal(mistakeOf({ ...complete, KAFKA_BROKERS: undefined }, serviceRoles), undefined, 'every role in one process needs no Kafka');
    assert.equal(mistakeOf({ ...complete, CATALOG_SERVICE_URL: 'http://catalog:8080' }, ['orders']), undefined);
    assert.equal(mistakeOf({ ...complete, DATABASE_URL: undefined, ORDERS_DATABASE_URL: 'postgres://127.0.0.1:1/orders', CATALOG_SERVICE_URL: 'http://catalog:8080' }, ['orders']), undefined);
  });

  test('when the orders or jobs service cannot reach the catalog or inventory, then it says which variable to set', () => {
    assert.match(mistakeOf(complete, ['orders']) ?? '', /^The orders module needs the catalog: .* set CATALOG_SERVICE_URL\.$/);
    assert.match(mistakeOf({ ...complete, CATALOG_SERVICE_URL: 'http://catalog:8080' }, ['jobs']) ?? '', /^The jobs module needs the catalog and inventory: /);
    assert.equal(mistakeOf({ ...complete, CATALOG_SERVICE_URL: 'http://catalog:8080', INVENTORY_SERVICE_URL: 'http://inventory:8080' }, ['jobs']), undefined);
    assert.equal(mistakeOf(complete, ['jobs', 'catalog', 'inventory']), undefined);
  });

  // The services composition root refuses the same mistakes in the same words; these it refuses before opening anything.
  for (const [when, env, roles] of [
    ['GATEWAY_SECRET is unset', { ...complete, GATEWAY_SECRET: undefined }, ['orders']],
    ['a role has no database', { ...complete, DATABASE_URL: undefined, ORDERS_DATABASE_URL: 'postgres://127.0.0.1:1/orders' }, ['orders', 'payments', 'inventory']],
    ['KAFKA_BROKERS is unset while other roles run elsewhere', { ...complete, KAFKA_BROKERS: undefined }, ['payments']],
  ] as const) {
    test(`when ${when}, then it is the mistake createServices refuses the role with`, async () => {
      const mistake = mistakeOf(env, roles);
      assert.ok(mistake !== undefined);
      await assert.rejects(
        createServices({ config: loadConfig(env), logger: memoryLogger().logger, roles, keyEncryptionKey: 'unused' }),
        { message: mistake },
      );
    });
  }
});
