import { applySagaEvent, type SagaEvent } from '../domain/order-saga.ts';
import type { OrderStore } from './ports.ts';

/**
 * Moves an order's saga on an event from inventory or payments, inside the transaction that
 * records the event as handled. Unknown orders and stale events change nothing.
 */
export class AdvanceSaga {
  readonly #stepTimeoutMs: number;
  readonly #now: () => Date;

  constructor(deps: { stepTimeoutMs: number; now?: () => Date }) {
    this.#stepTimeoutMs = deps.stepTimeoutMs;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(store: OrderStore, orderId: string, event: SagaEvent): Promise<void> {
    const order = await store.lock(orderId);
    if (order === undefined) return;
    const transition = applySagaEvent(order, event, this.#now(), this.#stepTimeoutMs);
    if (transition.order !== order) await store.update(transition.order, transition.actions);
  }
}
