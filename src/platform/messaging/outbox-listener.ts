import pg from 'pg';
import type { Logger } from '../logging/logger.ts';
import { outboxChannel } from './outbox.ts';

const listenRetryBaseMs = 500;
const listenRetryMaxMs = 30_000;

/**
 * The outbox relay's `LISTEN` connection (`notify: 'postgres'`): calls `onWake` on every outbox
 * notification, and once it (re)connects, as rows may have been committed while not listening. A
 * lost or refused connection is tried again soon, not after a poll interval (which may be long
 * because notifications are expected), backing off while the database stays unreachable.
 */
export class OutboxListener {
  readonly #url: string;
  readonly #logger: Logger;
  readonly #onWake: () => void;
  #client: pg.Client | undefined;
  #failures = 0;
  #stopping = false;

  constructor(options: { url: string; logger: Logger; onWake: () => void }) {
    this.#url = options.url;
    this.#logger = options.logger;
    this.#onWake = options.onWake;
  }

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url, application_name: 'orderstream-outbox-listener' });
    client.on('notification', () => { this.#onWake(); });
    client.on('error', (error) => {
      // A lost connection reports twice (the server's message, then the socket's end): reconnect once.
      if (this.#client !== client) return;
      this.#client = undefined;
      this.#logger.warn({ err: error }, 'outbox listener lost its connection; polling until it reconnects');
      void client.end().catch(() => undefined);
      this.#listenAgainLater();
    });
    try {
      await client.connect();
      await client.query(`listen ${outboxChannel}`);
    } catch (error) {
      this.#logger.warn({ err: error, failures: this.#failures + 1 }, 'outbox listener could not connect; polling until it does');
      await client.end().catch(() => undefined);
      this.#failures += 1;
      this.#listenAgainLater();
      return;
    }
    if (this.#stopping) { // stop() ran while connecting, and has no handle on this client
      await client.end().catch(() => undefined);
      return;
    }
    this.#failures = 0;
    this.#client = client;
    this.#onWake();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#client?.end().catch(() => undefined);
  }

  #listenAgainLater(): void {
    if (this.#stopping) return;
    const delayMs = Math.min(listenRetryBaseMs * 2 ** this.#failures, listenRetryMaxMs);
    setTimeout(() => { if (!this.#stopping) void this.start(); }, delayMs).unref();
  }
}
