import type pg from 'pg';
import { listenInProcess, openDedicatedConnection, type Database } from '../database/database.ts';
import type { Logger } from '../logging/logger.ts';
import { isTracingEnabled, traced, type SpanOptions } from '../observability/tracing.ts';
import { outboxChannel, type OutboxNotify } from './outbox.ts';
import {
  markSent, markSentAndSelectNext, relayLockKey, releaseRelayLock, selectUnsent, toOutgoingMessage, tryRelayLock, type OutboxRow,
} from './outbox-relay-statements.ts';
import type { MessageTransport } from './transport.ts';
import { OutboxListener } from './outbox-listener.ts';
import { WakeSignal } from './wake-signal.ts';

export type { OutboxRow } from './outbox-relay-statements.ts';

/**
 * Publishes unsent outbox rows through the transport in outbox order, then marks them sent. A
 * crash before the mark re-publishes the batch (consumers' inboxes absorb it); nothing is marked
 * sent that was not published. Idle, it sleeps until a commit notifies it or the poll interval passes:
 * with `notify: 'postgres'` (the default) writers send NOTIFY, heard through `listenUrl`; with
 * `notify: 'in-process'` a commit on this process's pool wakes it directly and sends no NOTIFY.
 *
 * The relay leads through a session-level advisory lock on a connection of its own, outside the
 * pool, and reads and marks rows on it without a transaction: while a batch is published (in one
 * process, that runs every consumer of it) the relay holds no pooled connection and no transaction,
 * so consumers never wait on it, and a slow broker leaves no transaction idle. It keeps the lead
 * while it runs (a relay of the same database elsewhere stands by, trying the lock when woken) and
 * gives it up on any failure and at stop, when its connection closes. Publishing one pass at a
 * time, it marks a pass sent and reads the next in one statement, so a busy relay costs one
 * round trip per pass and an idle one a read per wake-up. With several passes in flight, a pass
 * that was published is marked sent by the relay's next read (woken at once for it), so there too
 * a pass costs one round trip; a crash before that read publishes the pass again, as a crash
 * before any mark does.
 */
export class OutboxRelay {
  readonly #db: Database;
  readonly #transport: MessageTransport;
  readonly #logger: Logger;
  readonly #pollIntervalMs: number;
  readonly #batchSize: number;
  readonly #listenUrl: string | undefined;
  readonly #notify: OutboxNotify;
  readonly #wake = new WakeSignal();
  #stopListeningInProcess: (() => void) | undefined;
  #listener: OutboxListener | undefined;
  #loop: Promise<void> | undefined;
  #stopping = false;
  /** The relay's own connection, and whether it holds the leader lock now. */
  #connection: pg.Client | undefined;
  #leading = false;
  #broken = false;
  /** How many passes may be published at once (see `publishesInFlight`), and the positions of those that are. */
  readonly #publishesInFlight: number;
  readonly #inFlight = new Map<symbol, number[]>();
  #passFailed = false;
  /** The tail of the queries sent on the relay's connection, which run one after another. */
  #queries: Promise<void> = Promise.resolve();
  /** Unsent rows read by the statement that marked the previous pass sent (one pass at a time only). */
  #next: OutboxRow[] | undefined;
  /** Positions of passes published and not yet marked sent (several passes in flight): the next read marks them. */
  #published: number[] = [];

  constructor(options: {
    db: Database; transport: MessageTransport; logger: Logger; pollIntervalMs: number; batchSize?: number; listenUrl?: string; notify?: OutboxNotify;
    /**
     * Passes published at once (default 1). More only for a transport that keeps each consumer's
     * messages in the order `publish` was called and never fails a publish while a later one goes
     * on (`InProcessTransport`), so per-key order holds while a slow consumer no longer holds up the
     * others' next batch.
     */
    publishesInFlight?: number;
  }) {
    this.#db = options.db;
    this.#transport = options.transport;
    this.#logger = options.logger;
    this.#pollIntervalMs = options.pollIntervalMs;
    this.#batchSize = options.batchSize ?? 100;
    this.#listenUrl = options.listenUrl;
    this.#notify = options.notify ?? 'postgres';
    this.#publishesInFlight = Math.max(1, options.publishesInFlight ?? 1);
  }

  /** Publishes one batch and waits for it; returns how many rows it published (0 when idle or another relay leads). */
  async relayOnce(): Promise<number> {
    // Reads afresh: rows read ahead by an earlier pass may miss what was committed since.
    const pass = await this.#launch(false);
    if (pass === undefined) return 0;
    try {
      await pass.done;
      await this.#markPublished();
    } catch (error) {
      if (this.#inFlight.size === 0) await this.#resign();
      throw error;
    }
    return pass.count;
  }

  /**
   * Reads the next unsent rows (those of passes still in flight left out) and starts publishing
   * them; `done` settles once they are published and marked sent. Undefined when there is nothing
   * to send or another relay leads. `readAhead`: the loop may take the rows the previous pass read
   * when it marked itself sent (what committed since goes in the pass after, the loop being awake).
   */
  async #launch(readAhead: boolean): Promise<{ count: number; done: Promise<void> } | undefined> {
    const connection = await this.#lead();
    if (connection === undefined) return undefined;
    let rows = readAhead ? this.#next : undefined;
    this.#next = undefined;
    if (rows === undefined || this.#inFlight.size > 0) {
      try {
        const inFlight = [...this.#inFlight.values()].flat();
        // Passes published since the last read are marked sent by this one; its select sees the
        // snapshot from before the mark, so it leaves them out by position, as it does those in flight.
        const published = this.#published;
        this.#published = [];
        rows = published.length === 0
          ? (await this.#query<OutboxRow>(connection, selectUnsent, [this.#batchSize, inFlight])).rows
          : (await this.#query<OutboxRow>(connection, markSentAndSelectNext, [this.#batchSize, published, [...inFlight, ...published]])).rows;
      } catch (error) {
        if (this.#inFlight.size === 0) await this.#resign();
        throw error;
      }
    }
    if (rows.length === 0) return undefined;
    // A pass in flight failed while these rows were read: they could overtake what it carried.
    if (this.#passFailed) return undefined;
    const positions = rows.map((row) => row.position);
    const pass = Symbol('pass');
    this.#inFlight.set(pass, positions);
    // A span per batch that moved (idle polls make none), linked to the spans that wrote its messages.
    const done = traced('outbox.relay-batch', async () => {
      await this.#transport.publish(rows.map(toOutgoingMessage));
      if (this.#publishesInFlight > 1) {
        this.#published.push(...positions);
        this.#wake.wake();
        return;
      }
      // The select reads the snapshot from before the update, so it leaves out the rows it marks, and
      // those of any other pass in flight (a relayOnce beside the loop).
      const next = (await this.#query<OutboxRow>(connection, markSentAndSelectNext,
        [this.#batchSize, positions, [...this.#inFlight.values()].flat()])).rows;
      if (next.length > 0 && this.#leading && this.#inFlight.size === 1) this.#next = next;
    }, isTracingEnabled() ? batchSpan(rows) : undefined).finally(() => { this.#inFlight.delete(pass); });
    return { count: rows.length, done };
  }

  /**
   * A query on the relay's own connection, after the ones already sent on it: with passes in flight
   * a mark and the next read may be asked for at once, and a client runs one query at a time.
   */
  #query<Row extends pg.QueryResultRow>(connection: pg.Client, text: string, values: unknown[]): Promise<pg.QueryResult<Row>> {
    const result = this.#queries.then(() => connection.query<Row>(text, values));
    this.#queries = result.then(() => undefined, () => undefined);
    return result;
  }

  /** The relay's connection once it leads; undefined while another relay of the database leads. */
  async #lead(): Promise<pg.Client | undefined> {
    if (this.#connection !== undefined && this.#broken) await this.#closeConnection();
    if (this.#connection === undefined) {
      // The relay's statements go by index scans only. The planner likes a bitmap scan for the read of
      // unsent rows, and a bitmap scan visits the index entry of every row sent since the last vacuum
      // on every read (only an index scan marks them dead for the next); a seq scan is what a mark by
      // positions gets when the table was small at its last analyse.
      const connection = await openDedicatedConnection(this.#db, 'orderstream-outbox-relay', { enable_bitmapscan: 'off', enable_seqscan: 'off' });
      connection.on('error', () => { if (this.#connection === connection) this.#broken = true; });
      this.#connection = connection;
      this.#broken = false;
      this.#leading = false;
    }
    if (this.#leading) return this.#connection;
    try {
      const lock = await this.#query<{ locked: boolean }>(this.#connection, tryRelayLock, [relayLockKey]);
      this.#leading = lock.rows[0]?.locked === true;
    } catch (error) {
      await this.#closeConnection();
      throw error;
    }
    return this.#leading ? this.#connection : undefined;
  }

  /** Marks sent the passes published and not yet marked (those a read has not marked yet). */
  async #markPublished(): Promise<void> {
    if (this.#published.length === 0 || this.#connection === undefined || !this.#leading) return;
    const positions = this.#published;
    this.#published = [];
    await this.#query(this.#connection, markSent, [positions]);
  }

  /**
   * Gives up the lead (a connection that cannot say so is closed, which ends its lock too), marking
   * sent first what it published; passes it could not mark are published again by the next leader.
   */
  async #resign(): Promise<void> {
    this.#next = undefined;
    if (!this.#leading || this.#connection === undefined) {
      this.#published = [];
      return;
    }
    try {
      await this.#markPublished();
      this.#leading = false;
      await this.#query(this.#connection, releaseRelayLock, [relayLockKey]);
    } catch {
      await this.#closeConnection();
    }
  }

  async #closeConnection(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    this.#leading = false;
    this.#next = undefined;
    this.#published = [];
    await connection?.end().catch(() => undefined);
  }

  /** Starts relaying in the background until `stop()`. */
  async start(): Promise<void> {
    if (this.#notify === 'in-process') this.#stopListeningInProcess ??= listenInProcess(this.#db, outboxChannel, () => { this.#wake.wake(); });
    if (this.#listenUrl !== undefined) {
      this.#listener = new OutboxListener({ url: this.#listenUrl, logger: this.#logger, onWake: () => { this.#wake.wake(); } });
      await this.#listener.start();
    }
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#stopListeningInProcess?.();
    this.#stopListeningInProcess = undefined;
    this.#wake.wake();
    await this.#loop;
    await this.#listener?.stop();
    await this.#markPublished().catch((error: unknown) => {
      this.#logger.warn({ err: error }, 'outbox relay could not mark its last passes sent; they will be published again');
    });
    await this.#closeConnection();
  }

  async #run(): Promise<void> {
    let failures = 0;
    const running = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    while (!this.#stopping) {
      try {
        if (failure !== undefined) throw failure.error;
        if (running.size >= this.#publishesInFlight) {
          await Promise.race(running);
          continue;
        }
        const pass = await this.#launch(true);
        failures = 0;
        if (pass !== undefined) {
          const tracked = pass.done.then(
            () => { running.delete(tracked); },
            (error: unknown) => { running.delete(tracked); failure ??= { error }; this.#passFailed = true; this.#wake.wake(); },
          );
          running.add(tracked);
          if (this.#publishesInFlight === 1) await tracked;
          if (pass.count === this.#batchSize || this.#next !== undefined) continue;
        }
      } catch (error) {
        // Passes still in flight finish (or fail) before the relay gives up the lead and starts over.
        await Promise.all(running);
        failure = undefined;
        this.#passFailed = false;
        await this.#resign();
        failures += 1;
        this.#logger.error({ err: error, failures }, 'outbox relay could not publish; will retry');
        await this.#wake.wait(Math.min(this.#pollIntervalMs * 2 ** failures, 30_000));
        continue;
      }
      await this.#wake.wait(this.#pollIntervalMs);
    }
    await Promise.all(running);
  }
}

function batchSpan(rows: readonly OutboxRow[]): SpanOptions {
  return {
    role: 'producer',
    attributes: { 'messaging.system': 'orderstream', 'messaging.operation.type': 'send', 'messaging.batch.message_count': rows.length },
    linkedTo: rows.map((row) => row.traceparent),
  };
}
