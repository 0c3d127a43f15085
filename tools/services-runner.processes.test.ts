import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { sql } from 'kysely';
import { createDatabase } from '../src/platform/database/database.ts';
import { embeddedServerUrl } from '../src/platform/testing/test-database.ts';
import { requireService } from '../src/platform/testing/services.ts';
import { nginxUnavailableReason } from './local-nginx.ts';
import { moduleNames } from '../src/apps/module-registry.ts';
import { freePort } from '../test/e2e/harness/orderstream-process.ts';

/**
 * `orderstream services up|status|down` as a developer runs it: the CLI in child processes, on a
 * private folder, port, database prefix, Kafka namespace and Redis prefix, so a run never touches
 * `.data/services` or another run. Everything goes through nginx; the processes are found again
 * through the pid files, as `down` finds them.
 */
const kafka = requireService('Kafka', 'KAFKA_BROKERS');
const redis = requireService('Redis', 'REDIS_URL');
const nginxMissing = nginxUnavailableReason();
if (nginxMissing !== undefined && process.env.REQUIRE_SERVICES === '1') throw new Error(`nginx is required (REQUIRE_SERVICES=1): ${nginxMissing}`);
const skip = kafka.skip || redis.skip || (nginxMissing ?? false);

const projectRoot = path.resolve(import.meta.dirname, '..');
const roles = moduleNames;
const names = ['nginx', 'gateway-1', 'gateway-2', ...roles];

test('when services gets a bad action or option, then it exits with code 2, says why and starts nothing', async () => {
  const dir = path.join(tmpdir(), `orderstream-services-runner-unused-${randomBytes(4).toString('hex')}`);
  const cases: [string[], RegExp][] = [
    [['services'], /Say what to do: orderstream services up\|down\|status/],
    [['services', 'restart'], /Unknown services action "restart"/],
    [['services', 'up', 'now'], /Unexpected argument "now"/],
    [['services', 'up', '--port', '0'], /--port must be a port number/],
    [['services', 'up', '--database-prefix', 'Bad-Prefix'], /--database-prefix must be lower-case/],
    [['services', 'status', '--port', '8080'], /apply to services up only/],
    [['services', 'up', '--purge'], /--purge applies to services down only/],
  ];
  for (const [args, reason] of cases) {
    const child = spawn(process.execPath, ['src/cli.ts', ...args, '--dir', dir], { cwd: projectRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    const code = await new Promise<number | null>((resolve) => { child.once('exit', resolve); });
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, reason);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace for a usage mistake');
  }
  await assert.rejects(readdir(dir), 'the folder was not even made');
});

describe('orderstream services up, status and down', { skip }, () => {
  const run = randomBytes(4).toString('hex');
  const databasePrefix = `svc_${run}_`;
  const serverUrl = process.env.DATABASE_URL ?? embeddedServerUrl();
  let dir: string;
  let port: number;
  let api: string;
  let env: NodeJS.ProcessEnv;
  /**
   * The admin commands' environment names a database that does not exist: they must find the
   * services' databases through the folder, and one that fell back to the single process fails
   * rather than writing to a database this run did not make.
   */
  let adminEnv: NodeJS.ProcessEnv;

  async function cli(action: string, ...options: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return orderstream('services', action, ...options);
  }

  /** `orderstream <args> --dir <this run's folder>`, as a developer runs it beside the services. */
  async function orderstream(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, ['src/cli.ts', ...args, '--dir', dir], { cwd: projectRoot, env: args[0] === 'services' ? env : adminEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    const code = await new Promise<number | null>((resolve) => { child.once('exit', resolve); });
    return { code, stdout, stderr };
  }

  async function pidOf(name: string): Promise<number> {
    return Number((await readFile(path.join(dir, 'pids', `${name}.pid`), 'utf8')).trim());
  }

  async function request(method: string, url: string, options: { token?: string; body?: unknown; requestId?: string; idempotencyKey?: string } = {}) {
    const response = await fetch(`${api}${url}`, {
      method,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
        ...(options.requestId === undefined ? {} : { 'x-request-id': options.requestId }),
        ...(options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as Record<string, unknown> };
  }

  /** Waits until both gateways (nginx alternates) refuse `token`: announced through Redis at once, at most the gateways' 5 s re-read. */
  async function refusedSoon(token: string): Promise<void> {
    const deadline = Date.now() + 6000;
    let refusals = 0;
    while (refusals < 4) {
      refusals = (await request('GET', '/v1/orders', { token })).status === 401 ? refusals + 1 : 0;
      assert.ok(Date.now() < deadline, 'the revoked token is still accepted after 6 s');
      if (refusals === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function signIn(email: string): Promise<string> {
    const credentials = { email, password: `a long enough password for ${email}` };
    const login = await request('POST', '/v1/auth/login', { body: credentials });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    return login.body.accessToken as string;
  }

  /** Processes still alive (zombies aside) in the process group of `pid`, which `up` made its leader. */
  async function aliveInGroup(pids: readonly number[]): Promise<string[]> {
    const left: string[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^[0-9]+$/.test(entry)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
      // pid (comm) state ppid pgrp ...: comm may hold spaces, so read after its closing parenthesis.
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === undefined || state === 'Z' || !pids.includes(Number(group))) continue;
      left.push(`${entry} ${(await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ')}`);
    }
    return left;
  }

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'orderstream-services-runner-'));
    port = await freePort();
    api = `http://127.0.0.1:${port}`;
    env = {
      ...process.env,
      DATABASE_URL: serverUrl, KAFKA_BROKERS: kafka.url, REDIS_URL: redis.url,
      KAFKA_NAMESPACE: `test-${run}`, KAFKA_TOPIC_PARTITIONS: '3', REDIS_KEY_PREFIX: `test-${run}:`,
      LOG_LEVEL: 'info', OUTBOX_POLL_INTERVAL_MS: '200', MESSAGE_RETRY_BASE_MS: '50', SIMULATED_PAYMENT_DELAY_MS: '300',
      // Identity reads its current signing key again after min(10 s, this): a rotation shows in 2 s, not 10.
      JWT_CLOCK_SKEW_SECONDS: '2',
    };
    adminEnv = { ...env, DATABASE_URL: Object.assign(new URL(serverUrl), { pathname: `/${databasePrefix}absent` }).toString() };
  });

  after(async () => {
    const down = await cli('down');
    assert.equal(down.code, 0, down.stderr);
    const admin = createDatabase({ url: serverUrl, poolSize: 1 });
    try {
      for (const role of roles) await sql.raw(`drop database if exists "${databasePrefix}${role}" with (force)`).execute(admin);
    } finally {
      await admin.destroy();
    }
    await rm(dir, { recursive: true, force: true });
  });

  test('when services up returns, then nginx, both gateways and every service run and /readyz answers through nginx', async () => {
    const up = await cli('up', '--port', String(port), '--database-prefix', databasePrefix);
    assert.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
    assert.match(up.stdout, new RegExp(`API: http://127\\.0\\.0\\.1:${port}`));
    for (const name of names) assert.match(up.stdout, new RegExp(`^${name} +${await pidOf(name)} +ready `, 'm'), `${name} in the table:\n${up.stdout}`);
    assert.match(up.stdout, /^kafka +- +reachable /m);
    for (const name of names.filter((candidate) => candidate !== 'nginx')) {
      assert.match(await readFile(path.join(dir, 'logs', `${name}.log`), 'utf8'), /is listening/, `${name} logged that it listens`);
    }
    const ready = await request('GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
  });

  test('when services up runs again, then it starts nothing and leaves the running processes alone', async () => {
    const running = await Promise.all(names.map(pidOf));
    const again = await cli('up');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /everything is already running/);
    assert.deepEqual(await Promise.all(names.map(pidOf)), running);
  });

  test('when seed runs beside the services, then it prints only the credentials, and the demo admin signs in through nginx and lists the seeded products', async () => {
    const seeded = await orderstream('seed');
    assert.equal(seeded.code, 0, seeded.stderr);
    assert.equal(seeded.stdout, [
      'Demo admin:    admin@demo.orderstream.local / demo-admin-orderstream-2026',
      'Demo customer: customer@demo.orderstream.local / demo-customer-orderstream-2026',
      `Demo catalogue: 8 products with stock (8 new, 0 already there) through the services shape at ${api}.`,
      '',
    ].join('\n'));
    const login = await request('POST', '/v1/auth/login', { body: { email: 'admin@demo.orderstream.local', password: 'demo-admin-orderstream-2026' } });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const admin = login.body.accessToken as string;
    const products = await request('GET', '/v1/products?limit=100');
    assert.deepEqual((products.body.items as { sku: string }[]).map((item) => item.sku).sort(), [
      'BEANS-1KG', 'GRINDER-1', 'KETTLE-1', 'LIMITED-1', 'MUG-BLUE', 'MUG-RED', 'TEA-BLACK', 'TEA-GREEN',
    ]);
    assert.deepEqual((await request('GET', '/v1/inventory/LIMITED-1', { token: admin })).body, { sku: 'LIMITED-1', onHand: 3, reserved: 0, available: 3 });
  });

  test('when users grant-admin runs beside the services, then the account signs in through nginx as an admin', async () => {
    const email = `admin-${run}@example.com`;
    const registered = await request('POST', '/v1/auth/register', { body: { email, password: `a long enough password for ${email}` } });
    assert.equal(registered.status, 202, JSON.stringify(registered.body));
    const before = await signIn(email);
    assert.equal((await request('PUT', '/v1/inventory/MUG-BLUE', { token: before, body: { onHand: 100 } })).status, 403);

    const granted = await orderstream('users', 'grant-admin', email);
    assert.equal(granted.code, 0, granted.stderr);
    assert.equal(granted.stdout, `${email} now has the roles: customer, admin (tokens issued before are refused; the next one carries them).\n`);
    await refusedSoon(before);
    const admin = await signIn(email);
    assert.equal((await request('PUT', '/v1/inventory/MUG-BLUE', { token: admin, body: { onHand: 100 } })).status, 200);
  });

  test('when users revoke-sessions, disable and enable run beside the services, then the tokens get 401 through nginx at once and sign-in is refused while disabled', async () => {
    const email = `revoked-${run}@example.com`;
    const password = `a long enough password for ${email}`;
    assert.equal((await request('POST', '/v1/auth/register', { body: { email, password } })).status, 202);
    const first = await signIn(email);
    assert.equal((await request('GET', '/v1/orders', { token: first })).status, 200);
    const revoked = await orderstream('users', 'revoke-sessions', email);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /1 open sessions revoked/);
    await refusedSoon(first);

    const second = await signIn(email);
    const disabled = await orderstream('users', 'disable', email);
    assert.equal(disabled.code, 0, disabled.stderr);
    await refusedSoon(second);
    assert.equal((await request('POST', '/v1/auth/login', { body: { email, password } })).status, 403);
    const enabled = await orderstream('users', 'enable', email);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.equal((await request('GET', '/v1/orders', { token: await signIn(email) })).status, 200);
    assert.equal((await orderstream('users', 'disable', 'nobody@example.com')).code, 2);
  });

  test('when keys rotate runs beside the services, then identity signs with the new key and both gateways accept its tokens', async () => {
    const email = `admin-${run}@example.com`;
    const keyOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid: string }).kid;
    const previous = keyOf(await signIn(email));

    const rotated = await orderstream('keys', 'rotate');
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /^A new signing key is current/);
    let token = await signIn(email);
    const deadline = Date.now() + 15_000;
    while (keyOf(token) === previous && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      token = await signIn(email);
    }
    assert.notEqual(keyOf(token), previous, 'identity signs with the rotated key');
    const published = ((await request('GET', '/.well-known/jwks.json')).body.keys as { kid: string }[]).map((key) => key.kid);
    assert.ok(published.includes(previous) && published.includes(keyOf(token)), `both keys published: ${published.join(', ')}`);
    const ids = Array.from({ length: 10 }, (_, index) => `rotated-${run}-${index}`);
    for (const requestId of ids) assert.equal((await request('GET', '/v1/inventory/MUG-BLUE', { token, requestId })).status, 200);
    for (const gateway of ['gateway-1', 'gateway-2']) {
      const log = await readFile(path.join(dir, 'logs', `${gateway}.log`), 'utf8');
      assert.ok(ids.some((id) => log.includes(`"requestId":"${id}"`)), `${gateway} served a request with the new key's token`);
    }
  });

  test('when keys rewrap runs beside the services with nothing under another key, then it re-encrypts none and tokens keep working', async () => {
    const rewrapped = await orderstream('keys', 'rewrap');
    assert.equal(rewrapped.code, 0, rewrapped.stderr);
    assert.match(rewrapped.stdout, /^0 of [1-9]\d* signing keys re-encrypted/);
    assert.equal((await request('GET', '/v1/orders', { token: await signIn(`admin-${run}@example.com`) })).status, 200);
  });

  test('when a customer registers, signs in and orders through nginx, then the order is confirmed across the services', async () => {
    const registered = await request('POST', '/v1/auth/register', { body: { email: `ada-${run}@example.com`, password: `a long enough password for ada-${run}@example.com` } });
    assert.equal(registered.status, 202, JSON.stringify(registered.body));
    const admin = await signIn(`admin-${run}@example.com`);
    const customer = await signIn(`ada-${run}@example.com`);
    const created = await request('POST', '/v1/products', { token: admin, body: { sku: 'RUNNER-1', name: 'Runner mug', description: 'A mug', price: { amount: 1250, currency: 'EUR' } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await request('PUT', '/v1/inventory/RUNNER-1', { token: admin, body: { onHand: 5 } })).status, 200);

    const placed = await request('POST', '/v1/orders', { token: customer, idempotencyKey: crypto.randomUUID(), body: { items: [{ sku: 'RUNNER-1', quantity: 2 }], payment: { token: 'tok_visa' } } });
    assert.equal(placed.status, 202, JSON.stringify(placed.body));
    const deadline = Date.now() + 60_000;
    let order = placed.body;
    while (order.status !== 'CONFIRMED' && order.status !== 'CANCELLED' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      order = (await request('GET', `/v1/orders/${String(placed.body.id)}`, { token: customer })).body;
    }
    assert.equal(order.status, 'CONFIRMED', JSON.stringify(order));
    assert.deepEqual((await request('GET', '/v1/inventory/RUNNER-1', { token: admin })).body, { sku: 'RUNNER-1', onHand: 3, reserved: 0, available: 3 });
  });

  test('when requests go through nginx, then both gateways serve some of them', async () => {
    const ids = Array.from({ length: 20 }, (_, index) => `spread-${run}-${index}`);
    for (const requestId of ids) assert.equal((await request('GET', '/v1/products', { requestId })).status, 200);
    for (const gateway of ['gateway-1', 'gateway-2']) {
      const log = await readFile(path.join(dir, 'logs', `${gateway}.log`), 'utf8');
      const served = ids.filter((id) => log.includes(`"requestId":"${id}"`));
      assert.ok(served.length > 0, `${gateway} served none of the 20 requests`);
    }
  });

  test('when everything runs, then services status exits 0', async () => {
    const status = await cli('status');
    assert.equal(status.code, 0, status.stdout);
    assert.doesNotMatch(status.stdout, /stopped|not ready|unreachable/);
  });

  test('when a gateway is killed, then requests through nginx still succeed on the other, and status exits non-zero', async () => {
    const gateway = await pidOf('gateway-1');
    process.kill(gateway, 'SIGKILL');
    const deadline = Date.now() + 5000;
    while ((await aliveInGroup([gateway])).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const statuses: number[] = [];
    for (let index = 0; index < 10; index += 1) statuses.push((await request('GET', '/v1/products')).status);
    statuses.push((await request('GET', '/readyz')).status);
    assert.deepEqual(statuses, statuses.map(() => 200));
    const access = await readFile(path.join(dir, 'logs', 'nginx-access.log'), 'utf8');
    assert.match(access, /"upstream":"127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+"/, 'nginx tried the killed gateway, then the other');
    const status = await cli('status');
    assert.equal(status.code, 1);
    assert.match(status.stdout, /^gateway-1 +- +stopped /m);
  });

  test('when services down runs, then no process of the run is left and status exits non-zero', async () => {
    const pidsBeforeDown = await Promise.all(names.map(pidOf));
    const down = await cli('down');
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /stopped nginx/);
    assert.match(down.stdout, /gateway-1 was not running/);
    for (const role of roles) assert.match(down.stdout, new RegExp(`stopped ${role} `));
    assert.deepEqual(await aliveInGroup(pidsBeforeDown), []);
    const status = await cli('status');
    assert.notEqual(status.code, 0);
    await assert.rejects(fetch(`${api}/readyz`), 'nothing answers on the API port');
  });

  test('when services down --purge runs, then the run\'s topics, consumer groups, databases and folder are gone and another namespace\'s topic and database stay', async () => {
    const prefix = `test-${run}.orderstream.`;
    // Kept alive by this test to show that purge deletes by the run's exact names; removed at the end.
    const otherTopic = `test-${run}-other.orderstream.orders.v1`;
    const otherDatabase = `${databasePrefix}other`;
    const kafkaAdmin = new Admin({ clientId: `test-${run}-purge`, bootstrapBrokers: (kafka.url ?? '').split(',') });
    const database = createDatabase({ url: serverUrl, poolSize: 1 });
    const runDatabases = async () => (await sql<{ datname: string }>`select datname from pg_database where datname like ${`${databasePrefix}%`} order by datname`.execute(database)).rows.map((row) => row.datname);
    const runTopics = async () => (await kafkaAdmin.listTopics()).filter((topic) => topic.startsWith(prefix));
    const runGroups = async () => [...(await kafkaAdmin.listGroups({ types: ['classic', 'consumer'] })).keys()].filter((group) => group.startsWith(prefix));
    try {
      await kafkaAdmin.createTopics({ topics: [otherTopic], partitions: 1, replicas: 1 });
      await sql.raw(`create database "${otherDatabase}"`).execute(database);
      const topics = await runTopics();
      const groups = await runGroups();
      assert.ok(topics.length > 0 && groups.length > 0, `the run made topics and groups: ${JSON.stringify({ topics, groups })}`);
      assert.deepEqual(await runDatabases(), [...roles.map((role) => `${databasePrefix}${role}`), otherDatabase].sort());

      const purge = await cli('down', '--purge');

      assert.equal(purge.code, 0, `${purge.stdout}\n${purge.stderr}`);
      assert.match(purge.stdout, new RegExp(`^removed ${topics.length} Kafka topics?: `, 'm'));
      assert.match(purge.stdout, new RegExp(`^removed ${groups.length} Kafka consumer groups?: `, 'm'));
      assert.match(purge.stdout, new RegExp(`^removed ${roles.length} databases: `, 'm'));
      assert.match(purge.stdout, /^removed the folder /m);
      assert.deepEqual(await runTopics(), []);
      assert.deepEqual(await runGroups(), []);
      assert.deepEqual(await runDatabases(), [otherDatabase], 'only the database of another name is left');
      assert.ok((await kafkaAdmin.listTopics()).includes(otherTopic), 'the other namespace\'s topic is left');
      await assert.rejects(readdir(dir), 'the folder is gone');
    } finally {
      await kafkaAdmin.deleteTopics({ topics: [otherTopic] }).catch(() => undefined);
      await kafkaAdmin.close();
      await sql.raw(`drop database if exists "${otherDatabase}"`).execute(database);
      await database.destroy();
    }
  });
});
