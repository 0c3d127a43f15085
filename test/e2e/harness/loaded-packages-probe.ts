/**
 * Builds the single process the way `orderstream start` does, from this process's environment and
 * on DATABASE_URL, waits until its app is ready, and prints as JSON the packages (under
 * node_modules) that were loaded along the way. Run by `optional-sdks.int.test.ts` in a process of
 * its own, so nothing loaded by the test runner is counted.
 */
import { registerHooks } from 'node:module';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const loaded = new Set<string>();
// Every import and require is resolved through here, whichever module format asks.
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    const packageName = packageOf(resolved.url);
    if (packageName !== undefined) loaded.add(packageName);
    return resolved;
  },
});

/** `stripe` or `@aws-sdk/client-s3` for a file inside that package's folder under node_modules. */
function packageOf(url: string): string | undefined {
  if (!url.startsWith('file:')) return undefined;
  const parts = fileURLToPath(url).split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return undefined;
  const [first, second] = parts.slice(at + 1);
  if (first === undefined) return undefined;
  return first.startsWith('@') && second !== undefined ? `${first}/${second}` : first;
}

const { loadConfig } = await import('../../../src/platform/config/config.ts');
const { createLogger } = await import('../../../src/platform/logging/logger.ts');
const { createSingleProcess } = await import('../../../src/apps/single-process.ts');
const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl === undefined) throw new Error('DATABASE_URL is required');
const orderstream = await createSingleProcess({
  config: loadConfig(process.env), logger: createLogger({ level: 'silent' }), databaseUrl, keyEncryptionKey: randomBytes(32).toString('base64'),
});
await orderstream.app.ready();
// An SDK an adapter loads when it is built has been asked for by now; a moment more lets it settle.
await new Promise((resolve) => setTimeout(resolve, 200));
await orderstream.close();
process.stdout.write(`${JSON.stringify([...loaded].sort())}\n`);
