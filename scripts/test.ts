/**
 * `npm test`: starts an embedded PostgreSQL for the run (databases per test file are made on it),
 * then runs every `*.test.ts` with Node's test runner. Extra arguments are passed to the runner
 * (`npm test -- src/modules/catalog/domain/product.test.ts`).
 */
import { spawn } from 'node:child_process';
import { createLogger } from '../src/platform/logging/logger.ts';
import { startEmbeddedPostgres } from '../src/platform/database/embedded-postgres.ts';

const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'warn' });
// Separate folders let several test runs go at once (TEST_POSTGRES_DIR=.data/test-postgres-2 npm test).
const server = await startEmbeddedPostgres({ dataDir: process.env.TEST_POSTGRES_DIR ?? '.data/test-postgres', logger });
const requested = process.argv.slice(2);
const files = requested.some((argument) => !argument.startsWith('-')) ? [] : ['src/**/*.test.ts', 'scripts/*.test.ts'];
const runner = spawn(process.execPath, ['--test', '--test-concurrency=4', '--test-timeout=120000', ...requested, ...files], {
  stdio: 'inherit',
  env: { ...process.env, TEST_EMBEDDED_DATABASE_URL: server.url },
});
const forward = (signal: NodeJS.Signals) => { runner.kill(signal); };
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
const code = await new Promise<number>((resolve) => {
  runner.on('exit', (exitCode, signal) => { resolve(exitCode ?? (signal === null ? 1 : 128)); });
});
await server.stop();
process.exit(code);
