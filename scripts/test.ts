/**
 * `npm test`: starts an embedded PostgreSQL for the run (databases per test file are made on it),
 * then runs every `*.test.ts` with Node's test runner, the multi-process `*.processes.test.ts` last
 * and one at a time. Extra arguments are passed to the runner
 * (`npm test -- src/modules/catalog/domain/product.test.ts`).
 */
import { spawn } from 'node:child_process';
import { glob } from 'node:fs/promises';
import { createLogger } from '../src/platform/logging/logger.ts';
import { startEmbeddedPostgres } from '../src/platform/database/embedded-postgres.ts';

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'warn' });
// Separate folders let several test runs go at once (TEST_POSTGRES_DIR=.data/test-postgres-2 npm test).
const server = await startEmbeddedPostgres({ dataDir: process.env.TEST_POSTGRES_DIR ?? '.data/test-postgres', logger });
const requested = process.argv.slice(2);
const named = requested.some((argument) => !argument.startsWith('-'));

/** Runs Node's test runner on `files` (or on what the caller named) with `concurrency` files at once. */
async function runTests(files: readonly string[], concurrency: number): Promise<number> {
  // --test-force-exit: a file whose tests have all ended is ended, even if a leaked handle (a server
  // a failed hook never closed) would keep it alive; CI would otherwise wait on it for good.
  const runner = spawn(process.execPath, ['--test', `--test-concurrency=${String(concurrency)}`, '--test-timeout=120000', '--test-force-exit', ...requested, ...files], {
    stdio: 'inherit',
    env: { ...process.env, TEST_EMBEDDED_DATABASE_URL: server.url },
  });
  const forward = (signal: NodeJS.Signals) => { runner.kill(signal); };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((resolve) => {
    runner.on('exit', (exitCode, signal) => { resolve(exitCode ?? (signal === null ? 1 : 128)); });
  });
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  return code;
}

let code: number;
if (named) {
  code = await runTests([], 4);
} else {
  // Files named `*.processes.test.ts` start several OrderStream processes each (gateways, services,
  // crash-and-restart), and `*.browser.test.ts` a headless Chromium beside one: on two cores they
  // time out when run beside each other, so they run after the rest, one at a time.
  const all: string[] = [];
  for await (const file of glob(['src/**/*.test.ts', 'test/**/*.test.ts', 'tools/**/*.test.ts', 'bench/**/*.test.ts', 'deploy/**/*.test.ts', 'scripts/*.test.ts', 'packages/**/*.test.ts'])) all.push(file);
  all.sort();
  const heavy = all.filter((file) => file.endsWith('.processes.test.ts') || file.endsWith('.browser.test.ts'));
  const first = await runTests(all.filter((file) => !heavy.includes(file)), 4);
  const second = heavy.length === 0 ? 0 : await runTests(heavy, 1);
  code = first !== 0 ? first : second;
}
await server.stop();
process.exit(code);
