import type { Config } from '../platform/config/config.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { onAdminTarget, withOrderStream } from './admin-target.ts';
import { loadSeed } from './checkout-tools.ts';
import type { AdminTargetOptions } from './usage.ts';

/** `orderstream seed`: the demo users, then the demo catalogue through the API as the demo admin; prints the credentials and nothing else. */
export async function seed(config: Config, logger: Logger, values: AdminTargetOptions): Promise<void> {
  const { seedDemoData, seedSummary } = await loadSeed();
  await onAdminTarget(config, values, async (target) => {
    if (target.shape === 'services') {
      const seeded = await target.admin.seedServicesShape(target.services, config, logger);
      console.log(seedSummary(seeded, `through the services shape at ${target.services.apiUrl}`));
      return;
    }
    const seeded = await withOrderStream(config, logger, async (orderstream) => {
      const users = await orderstream.identity.seedDemoUsers();
      const login = await orderstream.app.inject({ method: 'POST', url: '/v1/auth/login', payload: users.admin });
      if (login.statusCode !== 200) throw new Error(`Signing in as the demo admin failed: ${login.statusCode} ${login.body}`);
      const authorization = `Bearer ${login.json<{ accessToken: string }>().accessToken}`;
      const result = await seedDemoData(async (method, url, payload) => {
        const response = await orderstream.app.inject({ method, url, headers: { authorization }, payload: payload as Record<string, unknown> });
        return { statusCode: response.statusCode, body: response.body };
      });
      return { users, ...result };
    });
    console.log(seedSummary(seeded, "in the single process's database"));
  });
}
