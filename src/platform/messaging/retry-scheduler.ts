import { sql } from 'kysely';
import type { Database } from '../database/database.ts';
import type { Logger } from '../logging/logger.ts';
import type { Envelope } from './envelope.ts';
import { WakeSignal } from './wake-signal.ts';

interface DueRetry {
  consumer: string;
  envelope: Envelope;
  attempts: number;
}

/** Runs one more attempt of a delivery; resolves when it succeeded or its failure was recorded. */
export type RetryAttempt = (consumer: string, envelope: Envelope, attemptsSoFar: number) => Promise<void>;

// A claimed retry is hidden this long; a process that dies mid-attempt leaves it to be picked up again.
const leaseSeconds = 30;

/** Picks up deliveries whose backoff has elapsed and attempts them again. */
export class RetryScheduler {
  readonly #db: Database;
  readonly #attempt: RetryAttempt;
  readonly #logger: Logger;
  readonly #pollIntervalMs: number;
  readonly #wake = new WakeSignal();
  #loop: Promise<void> | undefined;
  #stopping = false;

  constructor(options: { db: Database; attempt: RetryAttempt; logger: Logger; pollIntervalMs: number }) {
    this.#db = options.db;
    this.#attempt = options.attempt;
    this.#logger = options.logger;
    this.#pollIntervalMs = options.pollIntervalMs;
  }

  /** Attempts every retry that is due now; returns how many it attempted. */
  async retryDue(limit = 20): Promise<number> {
    const claimed = await sql<DueRetry>`
      update messaging.retries set next_attempt_at = now() + make_interval(secs => ${leaseSeconds})
      where (consumer, message_id) in (
        select consumer, message_id from messaging.retries
        where next_attempt_at <= now() order by next_attempt_at limit ${limit}
        for update skip locked)
      returning consumer, envelope, attempts`.execute(this.#db);
    for (const retry of claimed.rows) {
      await this.#attempt(retry.consumer, retry.envelope, retry.attempts);
    }
    return claimed.rows.length;
  }

  start(): void {
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake.wake();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        await this.retryDue();
      } catch (error) {
        this.#logger.error({ err: error }, 'retry scheduler failed to read due retries');
      }
      await this.#wake.wait(this.#pollIntervalMs);
    }
  }
}
