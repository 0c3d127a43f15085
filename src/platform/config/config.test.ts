import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, describeConfig, loadConfig } from './config.ts';

describe('loadConfig', () => {
  test('when nothing is set, then every default applies and the embedded database is used', () => {
    const config = loadConfig({});
    assert.equal(config.PORT, 8080);
    assert.equal(config.DATABASE_URL, undefined);
    assert.equal(config.LOG_LEVEL, 'info');
  });

  test('when values are set, then they are parsed to their types', () => {
    const config = loadConfig({ PORT: '9000', DATABASE_URL: 'postgres://u:p@db:5432/orders', DATABASE_POOL_SIZE: '4' });
    assert.equal(config.PORT, 9000);
    assert.equal(config.DATABASE_URL, 'postgres://u:p@db:5432/orders');
    assert.equal(config.DATABASE_POOL_SIZE, 4);
  });

  test('when several values are bad, then one error names each of them', () => {
    const error = captureConfigError({ PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_POOL_SIZE: '0' });
    assert.equal(error.issues.length, 3);
    assert.match(error.message, /PORT="eighty"/);
    assert.match(error.message, /LOG_LEVEL="loud"/);
    assert.match(error.message, /DATABASE_POOL_SIZE="0"/);
  });

  test('when a secret value is bad, then the error names it without printing the value', () => {
    const error = captureConfigError({ DATABASE_URL: 'mysql://admin:hunter2@db/orders' });
    assert.match(error.message, /DATABASE_URL=\(value hidden\)/);
    assert.doesNotMatch(error.message, /hunter2/);
  });

  test('when a variable is an empty string, then it counts as unset', () => {
    assert.equal(loadConfig({ PORT: '' }).PORT, 8080);
  });

  test('when the inbox would be kept for less time than the outbox, then the configuration is refused', () => {
    const error = captureConfigError({ INBOX_RETENTION_HOURS: '2', OUTBOX_RETENTION_MINUTES: '180' });
    assert.match(error.message, /INBOX_RETENTION_HOURS: must cover OUTBOX_RETENTION_MINUTES/);
    assert.equal(loadConfig({ INBOX_RETENTION_HOURS: '3', OUTBOX_RETENTION_MINUTES: '180' }).INBOX_RETENTION_HOURS, 3);
  });

  test('when webhook events would be kept for less than the provider redelivers them, then the configuration is refused with the reason', () => {
    const error = captureConfigError({ WEBHOOK_EVENT_RETENTION_DAYS: '3' });
    assert.match(error.message, /WEBHOOK_EVENT_RETENTION_DAYS="3"/);
    assert.match(error.message, /at least 4 days.*redeliveries/);
    assert.equal(loadConfig({ WEBHOOK_EVENT_RETENTION_DAYS: '4' }).WEBHOOK_EVENT_RETENTION_DAYS, 4);
    assert.equal(loadConfig({}).WEBHOOK_EVENT_RETENTION_DAYS, 30);
  });

  test('when webhook networks are allowed, then they are a list of addresses and CIDRs; unset, none; a host name or bad prefix is refused', () => {
    assert.deepEqual(loadConfig({ WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8, ::1,10.1.0.0/16' }).WEBHOOK_ALLOWED_NETWORKS, ['127.0.0.0/8', '::1', '10.1.0.0/16']);
    assert.equal(loadConfig({}).WEBHOOK_ALLOWED_NETWORKS, undefined);
    const error = captureConfigError({ WEBHOOK_ALLOWED_NETWORKS: 'localhost,10.0.0.0/33,fe80::1%eth0' });
    assert.equal(error.issues.length, 3);
    assert.match(error.message, /WEBHOOK_ALLOWED_NETWORKS=.*"localhost" is not an IP address or CIDR/);
  });

  test('when the headers timeout exceeds the request timeout, or the largest import could not arrive at 1 MiB/s, then the configuration is refused', () => {
    assert.match(captureConfigError({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000', IMPORT_MAX_BYTES: '1048576' }).message, /HTTP_HEADERS_TIMEOUT_MS: must be at most HTTP_REQUEST_TIMEOUT_MS/);
    assert.match(captureConfigError({ HTTP_REQUEST_TIMEOUT_MS: '30000' }).message, /HTTP_REQUEST_TIMEOUT_MS: must let an upload of IMPORT_MAX_BYTES arrive at 1 MiB\/s/);
    assert.equal(loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '50000' }).IMPORT_MAX_BYTES, 50 * 1024 * 1024);
    const defaults = loadConfig({});
    assert.deepEqual([defaults.HTTP_REQUEST_TIMEOUT_MS, defaults.HTTP_HEADERS_TIMEOUT_MS, defaults.HTTP_KEEP_ALIVE_TIMEOUT_MS], [120_000, 10_000, 72_000]);
  });

  test('when the gateway\'s required upstreams are set, then they are a list of names or *; unset, none; anything else is refused naming it', () => {
    assert.deepEqual(loadConfig({ GATEWAY_REQUIRED_UPSTREAMS: 'identity, orders' }).GATEWAY_REQUIRED_UPSTREAMS, ['identity', 'orders']);
    assert.deepEqual(loadConfig({ GATEWAY_REQUIRED_UPSTREAMS: '*' }).GATEWAY_REQUIRED_UPSTREAMS, ['*']);
    assert.deepEqual(loadConfig({}).GATEWAY_REQUIRED_UPSTREAMS, []);
    assert.match(captureConfigError({ GATEWAY_REQUIRED_UPSTREAMS: 'orders,Orders=http://x' }).message, /GATEWAY_REQUIRED_UPSTREAMS=.*"Orders=http:\/\/x" is not an upstream name/);
  });
});

describe('describeConfig', () => {
  test('when documenting, then every variable has a description and its default', () => {
    const rows = describeConfig();
    assert.ok(rows.every((row) => row.description.length > 0));
    assert.equal(rows.find((row) => row.name === 'PORT')?.defaultValue, '8080');
  });
});

function captureConfigError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail('expected a ConfigError');
}
