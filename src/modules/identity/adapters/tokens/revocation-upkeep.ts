import { BackgroundLoop, type BackgroundTask } from '../../../../platform/background/background-loop.ts';
import type { Logger } from '../../../../platform/logging/logger.ts';
import type { PgTokenRevocationStore } from '../postgres/pg-token-revocation-store.ts';
import type { RedisRevocationChannel } from '../redis/redis-revocation-channel.ts';
import type { LiveRevocationList } from './live-revocation-list.ts';

/**
 * Keeps the revocation list current in the background: reads identity's database every
 * `intervalMs` (so another process's revocation is enforced here within that time), copies the
 * entries in force to Redis when revocations are shared (so an entry whose write to Redis failed
 * reaches the gateways once Redis is back), listens to Redis's announcements, and prunes expired rows.
 */
export class RevocationUpkeep implements BackgroundTask {
  readonly name = 'identity.token-revocations';
  readonly #loop: BackgroundLoop;
  readonly #channel: RedisRevocationChannel | undefined;
  readonly #list: LiveRevocationList;
  readonly #logger: Logger;

  constructor(deps: { list: LiveRevocationList; store: PgTokenRevocationStore; channel: RedisRevocationChannel | undefined; intervalMs: number; logger: Logger }) {
    this.#channel = deps.channel;
    this.#list = deps.list;
    this.#logger = deps.logger;
    this.#loop = new BackgroundLoop({
      name: this.name, intervalMs: deps.intervalMs, logger: deps.logger,
      step: async () => {
        const now = new Date();
        await deps.list.refresh();
        await deps.store.pruneExpiredBefore(now);
        await deps.channel?.mirror(await deps.store.listActive(now));
        return 0;
      },
    });
  }

  start(): void {
    this.#channel?.subscribe((revocation) => { void this.#list.announce(revocation); })
      .catch((error: unknown) => { this.#logger.warn({ err: error }, 'token revocation announcements could not be subscribed to; the list is read again every few seconds'); });
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }
}
