import type { OrderMetrics, OrderReader } from './ports.ts';
import { noOrderMetrics } from './report-transition.ts';

/** A new order refused because too many accepted orders are still unfinished; nothing was written for it. */
export class OrderBacklogFullError extends Error {
  readonly backlog: number;
  readonly limit: number;
  /** A hint for the caller: try again after this many seconds. */
  readonly retryAfterSeconds: number;

  constructor(backlog: number, limit: number, retryAfterSeconds: number) {
    super(`${String(backlog)} accepted orders are still unfinished (limit ${String(limit)}); try again after ${String(retryAfterSeconds)} s`);
    this.name = 'OrderBacklogFullError';
    this.backlog = backlog;
    this.limit = limit;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** One count of the unfinished orders, with the limit admission control applied when it was made (0: none). */
export interface BacklogCount {
  unfinished: number;
  limit: number;
  countedAt: Date;
}

/** How far back finished orders are counted to judge how fast orders finish now. */
const finishWindowMs = 10_000;

/**
 * Admission control of new orders: while the unfinished orders are at the limit, a new one is
 * refused, so that beyond capacity clients wait before sending instead of every accepted order
 * waiting longer for its saga. The backlog is counted in the database by `sample()`, which a
 * background loop runs a few times a second (every instance of the orders service counts the same
 * database, so all judge alike), and between two counts raised by the orders this instance placed
 * since the last count began: a burst passes the limit by at most what other instances place in one
 * interval. A request never counts anything itself. Without a recent count (none yet, or counting
 * has failed for `staleAfterMs`) every order is admitted, as with no limit.
 *
 * The limit is the lower of two: `limit`, fixed, and, with `backlogSeconds`, the orders this process
 * saw finish in the last ten seconds per second times `backlogSeconds` (at least `floor` until that many have finished in the window):
 * the backlog the sagas clear in about that long, so an accepted order waits about that long at
 * most, whatever the machine manages. With several instances each judges by the orders it finished
 * itself, a share of all, so it refuses early rather than late.
 */
export class OrderAdmission {
  /** Where new orders are refused at most; 0: no fixed limit. */
  readonly limit: number;
  readonly #backlogSeconds: number;
  readonly #floor: number;
  /** When this process saw orders finish, oldest first, over the last `finishWindowMs`. */
  readonly #finishedAt: number[] = [];
  readonly #orders: Pick<OrderReader, 'countUnfinished'>;
  readonly #retryAfterSeconds: number;
  readonly #staleAfterMs: number;
  readonly #metrics: OrderMetrics;
  readonly #clock: () => number;
  #count: { unfinished: number; startedAt: number; placedBefore: number } | undefined;
  #lastCount: BacklogCount | undefined;
  #placed = 0;

  constructor(deps: {
    orders: Pick<OrderReader, 'countUnfinished'>; limit: number; staleAfterMs: number;
    /** Seconds of finishing work the backlog may hold (ORDER_BACKLOG_SECONDS); 0 or absent: only `limit` applies. */
    backlogSeconds?: number;
    /** Until this many orders finished in the last ten seconds (default 100), the limit is at least this: an idle system admits a burst. */
    floor?: number;
    /** Told to refused callers; 1 by default (see docs/operations.md, Bounded waits and overload). */
    retryAfterSeconds?: number;
    metrics?: OrderMetrics;
    /** Milliseconds of a monotonic clock. */
    clock?: () => number;
  }) {
    this.limit = deps.limit;
    this.#backlogSeconds = deps.backlogSeconds ?? 0;
    this.#floor = deps.floor ?? 100;
    this.#orders = deps.orders;
    this.#retryAfterSeconds = deps.retryAfterSeconds ?? 1;
    this.#staleAfterMs = deps.staleAfterMs;
    this.#metrics = deps.metrics ?? noOrderMetrics;
    this.#clock = deps.clock ?? (() => performance.now());
  }

  /** Counts the unfinished orders in the database and reports the count; answers 0, work a background loop need not repeat at once. */
  async sample(): Promise<number> {
    const placedBefore = this.#placed;
    const startedAt = this.#clock();
    const unfinished = await this.#orders.countUnfinished();
    this.#count = { unfinished, startedAt, placedBefore };
    const limit = this.currentLimit();
    this.#lastCount = { unfinished, limit, countedAt: new Date() };
    this.#metrics.backlogSampled(unfinished, limit);
    return 0;
  }

  /** The last count and the limit then, as reported to the metrics (`orderstream_order_backlog`, `..._limit`); undefined before the first. */
  lastCount(): BacklogCount | undefined {
    return this.#lastCount;
  }

  /** Where new orders are refused now (0: nowhere): the fixed limit, or the finishing rate times `backlogSeconds` when that is lower. */
  currentLimit(): number {
    if (this.#backlogSeconds <= 0) return this.limit;
    const now = this.#clock();
    for (let oldest = this.#finishedAt[0]; oldest !== undefined && now - oldest > finishWindowMs; oldest = this.#finishedAt[0]) this.#finishedAt.shift();
    const perSecond = this.#finishedAt.length / (finishWindowMs / 1000);
    const followed = Math.max(1, Math.ceil(perSecond * this.#backlogSeconds));
    // Until `floor` orders finished in the window the rate says too little (an idle start): admit up to the floor meanwhile.
    const adaptive = this.#finishedAt.length >= this.#floor ? followed : Math.max(this.#floor, followed);
    return this.limit === 0 ? adaptive : Math.min(this.limit, adaptive);
  }

  /** An order reached CONFIRMED or CANCELLED in this process. */
  finished(): void {
    if (this.#backlogSeconds <= 0) return;
    this.#finishedAt.push(this.#clock());
  }

  /**
   * The unfinished orders as known now: the last count plus the orders placed here since it began (one
   * placed while it ran may be in both, erring towards refusal); undefined without a recent count.
   */
  backlog(): number | undefined {
    const count = this.#count;
    if (count === undefined || this.#clock() - count.startedAt > this.#staleAfterMs) return undefined;
    return count.unfinished + this.#placed - count.placedBefore;
  }

  /** Why a new order may not be placed now, or undefined when it may. */
  refusal(): OrderBacklogFullError | undefined {
    const limit = this.currentLimit();
    if (limit === 0) return undefined;
    const backlog = this.backlog();
    if (backlog === undefined || backlog < limit) return undefined;
    return new OrderBacklogFullError(backlog, limit, this.#retryAfterSeconds);
  }

  /** An order this instance placed (committed), counted until the next count includes it. */
  placed(): void {
    this.#placed += 1;
  }
}
