import type { Order } from '../domain/order.ts'; // allowed: own domain/
import type { Backoff } from '../../../kernel/backoff.ts'; // allowed: the shared kernel

export interface OrderRepository {
  save(order: Order): Promise<void>;
}

export interface RetrySettings {
  readonly backoff: Backoff;
}
