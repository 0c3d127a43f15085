import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../platform/config/config.ts';
import { memoryLogger } from '../platform/testing/memory-logger.ts';
import { createServices, serviceRoles, type ServiceRole } from './services.ts';
import { requireServicesConfiguration } from './services-configuration.ts';

const complete = { GATEWAY_SECRET: 'a-gateway-secret-of-enough-length-0123456789', DATABASE_URL: 'postgres://127.0.0.1:1/unused', KAFKA_BROKERS: '127.0.0.1:1' };

/** The one issue the check refuses `roles` with, or undefined when it lets them run. */
function mistakeOf(env: Record<string, string | undefined>, roles: readonly ServiceRole[]): string | undefined {
  try {
    requireServicesConfiguration(loadConfig(env), roles);
    return undefined;
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.issues.length, 1);
    return error.issues[0];
  }
}

describe('the configuration a service role needs', () => {
  test('when everything a role needs is set, then there is no mistake and the gateway secret comes back', () => {
    assert.equal(mistakeOf(complete, ['identity']), undefined);
    assert.equal(requireServicesConfiguration(loadConfig(complete), ['identity']), complete.GATEWAY_SECRET);
    assert.equal(mistakeOf({ ...complete, KAFKA_BROKERS: undefined }, serviceRoles), undefined, 'every role in one process needs no Kafka');
    assert.equal(mistakeOf({ ...complete, CATALOG_SERVICE_URL: 'http://catalog:8080' }, ['orders']), undefined);
    assert.equal(mistakeOf({ ...complete, DATABASE_URL: undefined, ORDERS_DATABASE_URL: 'postgres://127.0.0.1:1/orders', CATALOG_SERVICE_URL: 'http://catalog:8080' }, ['orders']), undefined);
  });

  test('when the orders or jobs service cannot reach the catalog, inventory or orders, then it says which variable to set', () => {
    assert.match(mistakeOf(complete, ['orders']) ?? '', /^The orders module needs the catalog: .* set CATALOG_SERVICE_URL\.$/);
    assert.match(mistakeOf({ ...complete, CATALOG_SERVICE_URL: 'http://catalog:8080' }, ['jobs']) ?? '', /^The jobs module needs the catalog, inventory and orders: /);
    const remote = { CATALOG_SERVICE_URL: 'http://catalog:8080', INVENTORY_SERVICE_URL: 'http://inventory:8080' };
    assert.match(mistakeOf({ ...complete, ...remote }, ['jobs']) ?? '', /set CATALOG_SERVICE_URL, INVENTORY_SERVICE_URL and ORDERS_SERVICE_URL\.$/);
    assert.equal(mistakeOf({ ...complete, ...remote, ORDERS_SERVICE_URL: 'http://orders:8080' }, ['jobs']), undefined);
    assert.equal(mistakeOf(complete, ['jobs', 'catalog', 'inventory', 'orders']), undefined);
  });

  // The composition root refuses each of them as a configuration mistake before it opens anything.
  for (const [when, env, roles] of [
    ['GATEWAY_SECRET is unset', { ...complete, GATEWAY_SECRET: undefined }, ['orders']],
    ['a role has no database', { ...complete, DATABASE_URL: undefined, ORDERS_DATABASE_URL: 'postgres://127.0.0.1:1/orders' }, ['orders', 'payments', 'inventory']],
    ['KAFKA_BROKERS is unset while other roles run elsewhere', { ...complete, KAFKA_BROKERS: undefined }, ['payments']],
    ['the orders service cannot reach the catalog', complete, ['orders']],
  ] as const) {
    test(`when ${when}, then createServices refuses the roles with that configuration mistake`, async () => {
      const mistake = mistakeOf(env, roles);
      assert.ok(mistake !== undefined);
      await assert.rejects(
        createServices({ config: loadConfig(env), logger: memoryLogger().logger, roles, keyEncryptionKey: 'unused' }),
        (error: unknown) => error instanceof ConfigError && error.issues.length === 1 && error.issues[0] === mistake,
      );
    });
  }
});
