import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createTestDatabase, embeddedServerUrl } from '../../src/platform/testing/test-database.ts';

const probe = path.join(import.meta.dirname, 'harness', 'loaded-packages-probe.ts');

let database: Awaited<ReturnType<typeof createTestDatabase>>;

before(async () => { database = await createTestDatabase(embeddedServerUrl(), []); });
after(async () => { await database.drop(); });

/** The packages a single process built with exactly these settings loads on its way to ready. */
async function packagesLoadedWith(settings: Record<string, string>): Promise<string[]> {
  // Only what the probe needs: no STRIPE_*, S3_* or DOCUMENTS_* of the test run's own environment.
  const env = { PATH: process.env.PATH ?? '', DATABASE_URL: database.url, LOG_LEVEL: 'silent', ...settings };
  const { stdout } = await promisify(execFile)(process.execPath, [probe], { cwd: path.resolve(import.meta.dirname, '..', '..'), env, timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as string[];
}

const isOptionalSdk = (name: string): boolean => name === 'stripe' || name.startsWith('@aws-sdk/');

/**
 * The packages `npm ci --omit=dev` installs (the image's deps stage): every package-lock.json entry
 * not marked dev-only, by name (a nested copy counts under its own name).
 */
function productionPackages(): Set<string> {
  const lock = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '..', '..', 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  return new Set(Object.entries(lock.packages)
    .filter(([location, entry]) => location !== '' && entry.dev !== true)
    .map(([location]) => location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length)));
}

const everyIntegration = {
  PAYMENT_PROVIDER: 'stripe', STRIPE_API_KEY: 'sk_test_probe', STRIPE_WEBHOOK_SECRET: 'whsec_probe',
  DOCUMENTS_STORE: 's3', S3_BUCKET: 'orderstream-probe', S3_ENDPOINT: 'http://127.0.0.1:9', S3_FORCE_PATH_STYLE: 'true',
};

describe('SDKs of optional integrations', () => {
  test('when neither Stripe nor S3 is configured, then the process reaches ready without loading the Stripe SDK or the AWS SDK', async () => {
    const loaded = await packagesLoadedWith({});

    assert.ok(loaded.includes('fastify') && loaded.includes('pg'), `the probe sees the packages it loads: ${loaded.join(', ')}`);
    assert.deepEqual(loaded.filter(isOptionalSdk), []);
  });

  test('when Stripe and S3 are configured, then both SDKs are loaded, and every package loaded is one npm ci --omit=dev installs', async () => {
    const loaded = await packagesLoadedWith(everyIntegration);

    assert.ok(loaded.includes('stripe'), loaded.join(', '));
    assert.ok(loaded.includes('@aws-sdk/client-s3') && loaded.includes('@aws-sdk/lib-storage'), loaded.join(', '));
    // Installed with dev dependencies, the run would not notice one the process needs; the lock file does.
    // `debug` tries `supports-color` (which loads `has-flag`) inside a try/catch: where it is absent, nothing fails.
    const triedOnly = new Set(['supports-color', 'has-flag']);
    const production = productionPackages();
    assert.deepEqual(loaded.filter((name) => !production.has(name) && !triedOnly.has(name)), [], 'packages npm ci --omit=dev leaves out');
  });
});
