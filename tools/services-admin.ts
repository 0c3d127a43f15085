import type { Credentials, IdentityModule } from '../src/modules/identity/index.ts';
import type { Config } from '../src/platform/config/config.ts';
import { createDatabase } from '../src/platform/database/database.ts';
import type { Logger } from '../src/platform/logging/logger.ts';
import { createMetrics } from '../src/platform/observability/metrics.ts';
import { createModules } from '../src/apps/modules.ts';
import { seedDemoData } from './seed.ts';
import { defaultRedisUrl, findServicesShape, type ServicesShape } from './services-runner.ts';

/**
 * The admin commands (`seed`, `users grant-admin`, `keys rotate`) against the services shape that
 * `orderstream services up` runs on this machine, and the choice between it and the single process.
 */

/** Which OrderStream an admin command acts on. */
export type AdminTarget = { shape: 'single' } | { shape: 'services'; services: ServicesShape };

/** Neither shape can be acted on as asked; the message says what to start (exit code 1). */
export class ShapeNotRunningError extends Error {}

/**
 * `--shape services` or `--shape single` as asked; without it, the services shape of `dir` when
 * some of its processes run, else the single process. A services folder whose processes are all
 * stopped, beside no running single process, is refused: which one was meant cannot be told, and
 * seeding the wrong one reports success to someone who then sees nothing.
 */
export async function chooseAdminTarget(options: {
  shape: 'single' | 'services' | undefined;
  /** The services folder (`--dir`, ORDERSTREAM_SERVICES_DIR, else `.data/services`). */
  dir: string;
  /** The database server of a services plan that did not record its own. */
  serverUrl: string;
  /** Whether the single process's database is there to use without starting anything (DATABASE_URL, or a running `npm start`). */
  singleRunning: () => Promise<boolean>;
}): Promise<AdminTarget> {
  if (options.shape === 'single') return { shape: 'single' };
  const services = await findServicesShape(options.dir, options.serverUrl);
  if (services?.running === true) return { shape: 'services', services };
  if (options.shape === 'services') {
    throw new ShapeNotRunningError(`The services shape is not running in ${services?.dir ?? options.dir}: start it with \`npm run services\` (orderstream services up), then run this again.`);
  }
  if (services !== undefined && !(await options.singleRunning())) {
    throw new ShapeNotRunningError(`Neither shape is running: start \`npm start\` (one process) or \`npm run services\` (the services shape) first, or choose with --shape single|services.`);
  }
  return { shape: 'single' };
}

/**
 * Runs `work` on the identity module wired to the identity service's own database, with the key
 * its processes encrypt signing keys with. What it changes, the running identity service and the
 * gateways see as they see a change made by another instance: a rotated key is read again within
 * 10 s by identity and fetched from its JWKS by a gateway on the first token that names it; roles
 * are in the next token; a new account's event leaves through identity's outbox and relay; a
 * revocation is refused by every gateway at once (announced through Redis), or within seconds
 * (identity copies its database's revocations to Redis every few seconds).
 */
export async function withServicesIdentity<T>(services: ServicesShape, config: Config, logger: Logger, work: (identity: IdentityModule) => Promise<T>): Promise<T> {
  const url = services.databaseUrlOf('identity');
  const db = createDatabase({ url, poolSize: 2, applicationName: 'orderstream-admin' });
  let identity: IdentityModule | undefined;
  try {
    // Revocations are announced through the Redis the services share (as `up` chose it), so every gateway refuses the tokens at once.
    const shared = { ...config, REDIS_URL: config.REDIS_URL ?? defaultRedisUrl, REDIS_KEY_PREFIX: services.redisKeyPrefix ?? config.REDIS_KEY_PREFIX };
    ({ identity } = createModules({
      config: shared, logger, metrics: createMetrics({ logger }), keyEncryptionKey: await services.keyEncryptionKey(),
      databases: { identity: { db, url } }, runJobWorkers: false,
    }));
    if (identity === undefined) throw new Error('the identity module was not built on its database');
    return await work(identity);
  } finally {
    await identity?.close();
    await db.destroy();
  }
}

/**
 * Seeds the running services shape. The accounts are made in identity's database by identity's own
 * use cases, since no API makes an account an admin. The catalogue and its stock go through nginx
 * as any client's requests would, signed in as the demo admin: the gateways' policies, the catalog's
 * and inventory's rules and the events they publish all apply, and nothing here needs those
 * services' databases or the gateways' secret.
 */
export async function seedServicesShape(services: ServicesShape, config: Config, logger: Logger): Promise<{
  users: { admin: Credentials; customer: Credentials }; created: number; existing: number;
}> {
  const ready = await answer(`${services.apiUrl}/readyz`);
  if (ready !== 200) {
    const stopped = services.stopped.length === 0 ? '' : ` (stopped: ${services.stopped.join(', ')})`;
    throw new ShapeNotRunningError(`The services shape in ${services.dir} is not ready: GET ${services.apiUrl}/readyz answered ${ready ?? 'nothing'}${stopped}; \`orderstream services up\` starts what is stopped.`);
  }
  const users = await withServicesIdentity(services, config, logger, (identity) => identity.seedDemoUsers());
  const login = await fetch(`${services.apiUrl}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(users.admin), signal: AbortSignal.timeout(30_000),
  });
  const loginBody = await login.text();
  if (login.status !== 200) throw new Error(`Signing in as the demo admin through ${services.apiUrl} failed: ${login.status} ${loginBody}`);
  const authorization = `Bearer ${(JSON.parse(loginBody) as { accessToken: string }).accessToken}`;
  const result = await seedDemoData(async (method, url, payload) => {
    const response = await fetch(`${services.apiUrl}${url}`, {
      method, headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(payload), signal: AbortSignal.timeout(30_000),
    });
    return { statusCode: response.status, body: await response.text() };
  });
  return { users, ...result };
}

async function answer(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined;
  }
}
