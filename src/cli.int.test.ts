import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createTestDatabase, embeddedServerUrl } from './platform/testing/test-database.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const cliEntry = path.join(import.meta.dirname, 'cli.ts');

/** The environment of this run without anything that would change what the CLI under test does. */
const baseEnvironment: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => ![
  'DATABASE_URL', 'HOST', 'PORT', 'OPS_HOST', 'OPS_PORT', 'LOG_LEVEL', 'NODE_ENV', 'EMBEDDED_POSTGRES_DIR', 'EMBEDDED_POSTGRES_PORT', 'SHUTDOWN_TIMEOUT_MS',
].includes(name)));

let workDir: string;
const children = new Set<ChildProcess>();

before(async () => {
  workDir = path.join(projectRoot, '.data', `tmp-${randomBytes(6).toString('hex')}`);
  await mkdir(workDir, { recursive: true, mode: 0o755 });
});

after(async () => {
  // A failed test may leave a CLI running: stop it the way an operator would, then make sure of its database.
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
  for (const entry of await readdir(workDir).catch(() => [])) {
    const pid = Number.parseInt((await readFile(path.join(workDir, entry, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0] ?? '', 10);
    if (!Number.isInteger(pid) || (await postgresProcessesIn(path.join(workDir, entry))).length === 0) continue;
    process.kill(pid, 'SIGINT');
    await waitUntil(async () => (await postgresProcessesIn(path.join(workDir, entry))).length === 0, `postgres ${pid} to stop`);
  }
  await rm(workDir, { recursive: true, force: true });
});

interface LogLine { msg?: string; url?: string; [field: string]: unknown }

interface RunningCli {
  child: ChildProcess;
  logs: LogLine[];
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

function runCli(args: string[], environment: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [cliEntry, ...args], {
    cwd: projectRoot,
    // A free operations port, so CLIs of tests running side by side never compete for the default one.
    env: { ...baseEnvironment, OPS_PORT: '0', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  const logs: LogLine[] = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stdout += text;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('{')) logs.push(JSON.parse(line) as LogLine);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  const exit = new Promise<number | null>((resolve) => {
    child.once('close', (code) => { resolve(code); });
  });
  return { child, logs, stdout: () => stdout, stderr: () => stderr, exit };
}

/** Starts `orderstream start` on an embedded database in `dataDir` and resolves with its base URL once it listens. */
async function startCli(dataDir: string): Promise<RunningCli & { url: string }> {
  const cli = runCli(['start'], { PORT: '0', LOG_LEVEL: 'info', EMBEDDED_POSTGRES_DIR: dataDir, DEV_IDENTITY_HEADERS: 'true' });
  let exitCode: number | null | undefined;
  void cli.exit.then((code) => { exitCode = code; });
  await waitUntil(() => {
    if (exitCode !== undefined) throw new Error(`the CLI exited (${exitCode}) before listening:\n${cli.stdout()}\n${cli.stderr()}`);
    return cli.logs.some((line) => line.msg === 'OrderStream is listening');
  }, 'the CLI to listen', 60_000);
  const url = cli.logs.find((line) => line.msg === 'OrderStream is listening')?.url;
  assert.ok(url !== undefined);
  return { ...cli, url };
}

async function stopCli(cli: RunningCli): Promise<number | null> {
  cli.child.kill('SIGINT');
  return cli.exit;
}

/** Pids of PostgreSQL processes working in `dataDir` (a server changes into its data folder). */
async function postgresProcessesIn(dataDir: string): Promise<number[]> {
  const folder = await realpath(dataDir).catch(() => dataDir);
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
    if (cwd === folder) found.push(Number(entry));
  }
  return found;
}

async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('orderstream CLI', () => {
  test('when started with a bad PORT and LOG_LEVEL, then it exits with code 2 naming both', async () => {
    const cli = runCli(['start'], { PORT: 'eighty', LOG_LEVEL: 'loud' });

    assert.equal(await cli.exit, 2);
    assert.match(cli.stderr(), /PORT="eighty"/);
    assert.match(cli.stderr(), /LOG_LEVEL="loud"/);
  });

  test('when asked for help, or given no command, then it prints the usage and exits 0', async () => {
    for (const args of [['help'], ['--help'], []]) {
      const cli = runCli(args);
      assert.equal(await cli.exit, 0, `orderstream ${args.join(' ')}`);
      assert.match(cli.stdout(), /^Usage: orderstream <command>/);
      assert.match(cli.stdout(), /start \[--role all\]/);
    }
  });

  test('when the command is unknown, then it exits with code 2 and says so', async () => {
    const cli = runCli(['frobnicate']);

    assert.equal(await cli.exit, 2);
    assert.match(cli.stderr(), /Unknown command "frobnicate"/);
    assert.match(cli.stderr(), /Usage: orderstream/);
  });

  test('when an option is unknown or a role unsupported, then it exits with code 2 and a one-line reason', async () => {
    const unknownOption = runCli(['start', '--frobnicate']);
    assert.equal(await unknownOption.exit, 2);
    assert.match(unknownOption.stderr(), /--frobnicate/);
    assert.doesNotMatch(unknownOption.stderr(), /\n\s+at /, 'no stack trace for a usage mistake');

    const unknownRole = runCli(['start', '--role', 'orders,frobnicator']);
    assert.equal(await unknownRole.exit, 2);
    assert.match(unknownRole.stderr(), /Unknown role "orders,frobnicator"/);
  });

  test('when a gateway or a service role starts without GATEWAY_SECRET, then it exits with code 2 naming what to set', async () => {
    const gateway = runCli(['start', '--role', 'gateway']);
    assert.equal(await gateway.exit, 2);
    assert.match(gateway.stderr(), /GATEWAY_SECRET/);
    const service = runCli(['start', '--role', 'orders']);
    assert.equal(await service.exit, 2);
    assert.match(service.stderr(), /GATEWAY_SECRET/);
    assert.doesNotMatch(service.stderr(), /\n\s+at /);
  });

  test('when a service role cannot reach a service it needs, then it exits with code 2 naming the variable, before migrating anything', async () => {
    const database = await createTestDatabase(embeddedServerUrl(), []);
    try {
      const cli = runCli(['start', '--role', 'orders'], { DATABASE_URL: database.url, GATEWAY_SECRET: randomBytes(32).toString('base64'), KAFKA_BROKERS: '127.0.0.1:9' });

      assert.equal(await cli.exit, 2, cli.stderr());
      assert.match(cli.stderr(), /The orders module needs the catalog: run it in this process or set CATALOG_SERVICE_URL\./);
      assert.doesNotMatch(cli.stderr(), /\n\s+at /);
      const schemas = await sql<{ name: string }>`select schema_name as name from information_schema.schemata where schema_name in ('orders', 'messaging')`.execute(database.db);
      assert.deepEqual(schemas.rows, []);
    } finally {
      await database.drop();
    }
  });

  test('when started on PORT=0 without DATABASE_URL, then it serves on an embedded database, stops cleanly on SIGINT and keeps the data', async () => {
    const dataDir = path.join(workDir, 'postgres');

    const first = await startCli(dataDir);
    assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(first.url).port, '0', 'the logged URL carries the real port');
    assert.equal((await fetch(`${first.url}/healthz`)).status, 200);
    // Metrics are served on the operations listener the CLI opened, not on the public one.
    const metricsUrl = first.logs.find((line) => line.msg === 'OrderStream is listening')?.metricsUrl;
    assert.ok(typeof metricsUrl === 'string' && metricsUrl.endsWith('/metrics'), String(metricsUrl));
    const scraped = await fetch(metricsUrl);
    assert.equal(scraped.status, 200);
    assert.match(await scraped.text(), /^orderstream_http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} 1$/m);
    assert.equal((await fetch(`${first.url}/metrics`)).status, 404);
    const created = await fetch(`${first.url}/v1/products`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-dev-customer-id': 'cli-test', 'x-dev-roles': 'admin' },
      body: JSON.stringify({ sku: 'CLI-1', name: 'Kept across restarts', price: { amount: 1250, currency: 'EUR' } }),
    });
    assert.equal(created.status, 201);
    const product = await created.json() as { id: string };
    const listed = await (await fetch(`${first.url}/v1/products`)).json() as { items: { id: string }[] };
    assert.deepEqual(listed.items.map((item) => item.id), [product.id]);

    assert.equal(await stopCli(first), 0, first.stderr());
    const messages = first.logs.map((line) => line.msg);
    assert.ok(messages.includes('embedded postgres stopped'), messages.join('\n'));
    assert.ok(messages.includes('stopped'), messages.join('\n'));
    assert.deepEqual(await postgresProcessesIn(dataDir), []);
    assert.ok(!existsSync(path.join(dataDir, 'postmaster.pid')), 'a clean shutdown removes the lock');

    const second = await startCli(dataDir);
    const relisted = await (await fetch(`${second.url}/v1/products`)).json() as { items: { id: string; sku: string }[] };
    assert.deepEqual(relisted.items.map((item) => [item.id, item.sku]), [[product.id, 'CLI-1']]);
    assert.ok(!second.logs.some((line) => line.msg === 'initialising embedded postgres (first start)'), 'the second start reuses the folder');
    assert.equal(await stopCli(second), 0, second.stderr());
    assert.deepEqual(await postgresProcessesIn(dataDir), []);
  });

  test('when seed runs, then the demo credentials and what it made are all it writes to standard output', async () => {
    const database = await createTestDatabase(embeddedServerUrl(), []);
    try {
      const cli = runCli(['seed', '--dir', path.join(workDir, 'no-services-here')], {
        DATABASE_URL: database.url, IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      });

      assert.equal(await cli.exit, 0, cli.stderr());
      assert.equal(cli.stdout(), [
        'Demo admin:    admin@demo.orderstream.local / demo-admin-orderstream-2026',
        'Demo customer: customer@demo.orderstream.local / demo-customer-orderstream-2026',
        "Demo catalogue: 8 products with stock (8 new, 0 already there) in the single process's database.",
        '',
      ].join('\n'));
      assert.doesNotMatch(cli.stderr(), /"level":"info"/, 'no request logs, on either stream');
    } finally {
      await database.drop();
    }
  });

  test('when users grant-admin and keys rotate run, then each act is in the audit trail as the command line\'s; one that fails is not', async () => {
    const database = await createTestDatabase(embeddedServerUrl(), []);
    try {
      const environment = { DATABASE_URL: database.url, IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
      const seeded = runCli(['seed', '--shape', 'single'], environment);
      assert.equal(await seeded.exit, 0, seeded.stderr());
      const unknown = runCli(['users', 'grant-admin', 'nobody@example.com', '--shape', 'single'], environment);
      assert.equal(await unknown.exit, 2, unknown.stderr());
      const granted = runCli(['users', 'grant-admin', 'customer@demo.orderstream.local', '--shape', 'single'], environment);
      assert.equal(await granted.exit, 0, granted.stderr());
      const rotated = runCli(['keys', 'rotate', '--shape', 'single'], environment);
      assert.equal(await rotated.exit, 0, rotated.stderr());

      const entries = await sql<{ actor_id: string; action: string; target_id: string; after: unknown }>`
        select actor_id, action, target_id, after from audit.entries where module = 'identity' order by id`.execute(database.db);
      const customer = await sql<{ id: string }>`select id from identity.users where email = 'customer@demo.orderstream.local'`.execute(database.db);
      // The seed's grant to the demo admin, then the two acts run here; the unknown account left nothing.
      assert.deepEqual(entries.rows.map((entry) => [entry.actor_id, entry.action]), [
        ['cli', 'identity.admin-granted'], ['cli', 'identity.admin-granted'], ['cli', 'identity.signing-key-rotated'],
      ]);
      assert.equal(entries.rows[1]?.target_id, customer.rows[0]?.id);
      assert.deepEqual(entries.rows[1]?.after, { roles: ['customer', 'admin'] });
    } finally {
      await database.drop();
    }
  });

  test('when users revoke-sessions, disable and enable run on the single process, then the revocations and the disabled flag are stored and audited as the command line\'s', async () => {
    const database = await createTestDatabase(embeddedServerUrl(), []);
    try {
      const environment = { DATABASE_URL: database.url, IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64') };
      const seeded = runCli(['seed', '--shape', 'single'], environment);
      assert.equal(await seeded.exit, 0, seeded.stderr());
      const email = 'customer@demo.orderstream.local';
      const revoked = runCli(['users', 'revoke-sessions', email, '--shape', 'single'], environment);
      assert.equal(await revoked.exit, 0, revoked.stderr());
      assert.match(revoked.stdout(), /open sessions revoked; every access token issued before now is refused/);
      const disabled = runCli(['users', 'disable', email, '--shape', 'single'], environment);
      assert.equal(await disabled.exit, 0, disabled.stderr());
      const state = async () => (await sql<{ disabled: boolean }>`select disabled_at is not null as disabled from identity.users where email = ${email}`.execute(database.db)).rows[0]?.disabled;
      assert.equal(await state(), true);
      const enabled = runCli(['users', 'enable', email, '--shape', 'single'], environment);
      assert.equal(await enabled.exit, 0, enabled.stderr());
      assert.equal(await state(), false);
      const unknown = runCli(['users', 'disable', 'nobody@example.com', '--shape', 'single'], environment);
      assert.equal(await unknown.exit, 2, unknown.stderr());

      const revocations = await sql<{ kind: string; reason: string }>`select kind, reason from identity.token_revocations order by id`.execute(database.db);
      assert.deepEqual(revocations.rows.map((row) => [row.kind, row.reason]).filter(([, reason]) => reason !== 'role-change'), [['user', 'admin'], ['user', 'disabled']]);
      const acts = await sql<{ actor_id: string; action: string }>`
        select actor_id, action from audit.entries where module = 'identity' and action <> 'identity.admin-granted' order by id`.execute(database.db);
      assert.deepEqual(acts.rows.map((row) => [row.actor_id, row.action]), [
        ['cli', 'identity.sessions-revoked'], ['cli', 'identity.account-disabled'], ['cli', 'identity.account-enabled'],
      ]);
    } finally {
      await database.drop();
    }
  });

  test('when SIGINT comes while it is still starting, then it still stops its embedded database and exits 0', async () => {
    const dataDir = path.join(workDir, 'interrupted');
    const cli = runCli(['start'], { PORT: '0', LOG_LEVEL: 'info', EMBEDDED_POSTGRES_DIR: dataDir, DEV_IDENTITY_HEADERS: 'true' });
    await waitUntil(() => cli.logs.some((line) => line.msg === 'embedded postgres ready'), 'the embedded database to start', 60_000);

    assert.equal(await stopCli(cli), 0, cli.stderr());
    const messages = cli.logs.map((line) => line.msg);
    assert.ok(messages.includes('embedded postgres stopped'), messages.join('\n'));
    assert.deepEqual(await postgresProcessesIn(dataDir), []);
  });
});
