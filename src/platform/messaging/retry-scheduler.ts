import { sql } from 'kysely';
import type { Database } from '../database/database.ts';
import type { Logger } from '../logging/logger.ts';
import { claimDue, msFromNow, type WorkTable } from '../work-queue/index.ts';
import type { Envelope } from './envelope.ts';
import { WakeSignal } from './wake-signal.ts';

/**
 * A failed delivery of a message to one consumer, waiting for its next attempt. Its claims carry no
 * token: what an attempt records is guarded by `attempts` (failures recorded, which never go back).
 */
const retries: WorkTable = { name: 'messaging.retries', alias: 'r', key: ['consumer', 'message_id'] };

interface DueRetry {
  consumer: string;
  envelope: Envelope;
  attempts: number;
}

/** Runs one more attempt of a delivery; resolves when it succeeded or its failure was recorded. */
export type RetryAttempt = (consumer: string, envelope: Envelope, attemptsSoFar: number) => Promise<void>;

/**
 * How long a claimed retry is hidden unless configured otherwise (`retryLeaseMs`); a process that
 * dies mid-attempt leaves it to be picked up again after it.
 */
export const defaultRetryLeaseMs = 5 * 60 * 1000;

/**
 * The lease a retry needs with this statement timeout: at least `defaultRetryLeaseMs`, and at least
 * two statement timeouts. An attempt is one inbox transaction whose statements each end within the
 * statement timeout and whose outbound calls have timeouts, then one failure record, so it ends well
 * within that. Should one still outlive its lease (a stalled process), the second attempt it
 * overlaps is harmless: the inbox lets one of them take effect, a stale failure record never lowers
 * the attempts, and a message has one dead letter per consumer.
 */
export function retryLeaseMs(statementTimeoutMs: number): number {
  return Math.max(defaultRetryLeaseMs, 2 * statementTimeoutMs);
}

/** Picks up deliveries whose backoff has elapsed and attempts them again. */
export class RetryScheduler {
  readonly #db: Database;
  readonly #attempt: RetryAttempt;
  readonly #consumers: () => readonly string[];
  readonly #logger: Logger;
  readonly #pollIntervalMs: number;
  readonly #leaseMs: number;
  readonly #wake = new WakeSignal();
  #loop: Promise<void> | undefined;
  #stopping = false;

  /**
   * `consumers` names the consumers this process runs: only their retries are claimed, so a process
   * sharing the database with other services never holds another's retry for a lease. `leaseMs`
   * (default `defaultRetryLeaseMs`) must outlast one attempt (see `retryLeaseMs`).
   */
  constructor(options: { db: Database; attempt: RetryAttempt; consumers: () => readonly string[]; logger: Logger; pollIntervalMs: number; leaseMs?: number }) {
    this.#db = options.db;
    this.#attempt = options.attempt;
    this.#consumers = options.consumers;
    this.#logger = options.logger;
    this.#pollIntervalMs = options.pollIntervalMs;
    this.#leaseMs = options.leaseMs ?? defaultRetryLeaseMs;
  }

  /**
   * Attempts the retries that are due now, up to `limit`; returns how many it attempted. Each is
   * claimed just before its attempt, so its lease covers that one attempt, not the ones queued before it.
   */
  async retryDue(limit = 20): Promise<number> {
    let attempted = 0;
    const consumers = [...this.#consumers()];
    while (attempted < limit && consumers.length > 0) {
      const claimed = await claimDue<DueRetry>(retries, {
        limit: 1, leaseUntil: msFromNow(this.#leaseMs),
        where: sql`r.consumer = any(${consumers}::text[])`,
        returning: sql`r.consumer, r.envelope, r.attempts`,
      }).execute(this.#db);
      const retry = claimed.rows[0];
      if (retry === undefined) break;
      try {
        await this.#attempt(retry.consumer, retry.envelope, retry.attempts);
      } catch (error) {
        // The attempt recorded nothing (a full pool is not an attempt): hand the lease back rather than
        // hide the retry for the whole lease; a record made meanwhile changed `attempts` and stays.
        await sql`
          update messaging.retries set next_attempt_at = now()
          where consumer = ${retry.consumer} and message_id = ${retry.envelope.id} and attempts = ${retry.attempts}`
          .execute(this.#db).catch(() => undefined);
        throw error;
      }
      attempted += 1;
    }
    return attempted;
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
