import type { BacklogCount } from './order-admission.ts';
import type { DeadLetterCounts, MinuteCounts, OrderOperationsReader } from './ports.ts';

/** Minutes in the summary's window, the current one (still running) last. */
export const summaryMinutes = 60;
const minuteMs = 60_000;

/** What the operations summary shows: the last hour minute by minute, and the figures to watch now. */
export interface OperationsSummary {
  generatedAt: Date;
  /** The start of each minute of the window, oldest first; the last is the current minute. */
  minutes: Date[];
  placed: number[];
  confirmed: number[];
  cancelled: number[];
  /** The last count of unfinished orders by admission control; undefined before its first count. */
  backlog: BacklogCount | undefined;
  deadLetters: { module: string; waiting: number }[];
  confirmation: { p95Seconds: number | null; confirmed: number };
}

/**
 * Reads the operations summary: orders placed, confirmed and cancelled per minute over the last hour
 * and the placed→confirmed p95 from the orders themselves, the backlog as admission control last
 * counted it, and the dead letters waiting in this process's database.
 */
export class GetOperationsSummary {
  readonly #orders: OrderOperationsReader;
  readonly #admission: { lastCount(): BacklogCount | undefined };
  readonly #deadLetters: DeadLetterCounts;
  readonly #now: () => Date;

  constructor(deps: { orders: OrderOperationsReader; admission: { lastCount(): BacklogCount | undefined }; deadLetters: DeadLetterCounts; now?: () => Date }) {
    this.#orders = deps.orders;
    this.#admission = deps.admission;
    this.#deadLetters = deps.deadLetters;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(): Promise<OperationsSummary> {
    const now = this.#now();
    const currentMinute = Math.floor(now.getTime() / minuteMs) * minuteMs;
    const starts = Array.from({ length: summaryMinutes }, (_, index) => currentMinute - (summaryMinutes - 1 - index) * minuteMs);
    const since = new Date(starts[0] ?? currentMinute);
    const [counts, confirmation, deadLetters] = await Promise.all([
      this.#orders.countPerMinute(since),
      this.#orders.confirmationP95(since),
      this.#deadLetters.waitingPerModule(),
    ]);
    const series = (perMinute: MinuteCounts) => starts.map((start) => perMinute.get(start) ?? 0);
    return {
      generatedAt: now,
      minutes: starts.map((start) => new Date(start)),
      placed: series(counts.placed),
      confirmed: series(counts.confirmed),
      cancelled: series(counts.cancelled),
      backlog: this.#admission.lastCount(),
      deadLetters: [...deadLetters].sort((a, b) => a.module.localeCompare(b.module)),
      confirmation: { p95Seconds: confirmation.seconds, confirmed: confirmation.confirmed },
    };
  }
}
