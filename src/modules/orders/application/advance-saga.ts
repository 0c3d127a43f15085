import { applySagaEvent, type SagaEvent } from '../domain/order-saga.ts';
import type { OrderMetrics, OrderStore, SagaStepOutcome } from './ports.ts';
import { noOrderMetrics, reportTransition } from './report-transition.ts';

const nothingToReport = (): void => undefined;

/**
 * Moves an order's saga on an event from inventory or payments, inside the transaction that
 * records the event as handled. Unknown orders and stale events change nothing.
 */
export class AdvanceSaga {
  readonly #stepTimeoutMs: number;
  readonly #metrics: OrderMetrics;
  readonly #now: () => Date;

  constructor(deps: { stepTimeoutMs: number; metrics?: OrderMetrics; now?: () => Date }) {
    this.#stepTimeoutMs = deps.stepTimeoutMs;
    this.#metrics = deps.metrics ?? noOrderMetrics;
    this.#now = deps.now ?? (() => new Date());
  }

  /**
   * Applies the event in the caller's transaction. Returns what to report once that transaction has
   * committed: the caller owns the commit, and a rolled-back step must not be counted.
   */
  async execute(store: OrderStore, orderId: string, event: SagaEvent): Promise<() => void> {
    const order = await store.lock(orderId);
    if (order === undefined) return nothingToReport;
    const now = this.#now();
    const transition = applySagaEvent(order, event, now, this.#stepTimeoutMs);
    if (transition.order === order) return nothingToReport;
    await store.update(transition.order, transition.actions);
    return () => { reportTransition(this.#metrics, order, transition.order, now, outcomeOf(event)); };
  }
}

/** How the step in flight ended, if this event ended it. */
function outcomeOf(event: SagaEvent): SagaStepOutcome {
  switch (event.kind) {
    case 'step-succeeded':
      return 'succeeded';
    case 'step-failed':
      return 'failed';
    case 'stock-released':
      return 'expired';
    default:
      return 'cancelled';
  }
}
