import type { CommitStockV1, ReleaseStockV1, ReserveStockV1, RestockV1 } from '../contract.ts';

let sequence = 0;

/** A unique order id for a test. */
export function anOrderId(): string {
  sequence += 1;
  return `order-${process.pid}-${sequence}`;
}

/** A reserve command for a fresh order; override only what a test is about. */
export function aReserveCommand(lines: ReserveStockV1['lines'], overrides: Partial<ReserveStockV1> = {}): ReserveStockV1 {
  return { orderId: anOrderId(), lines, ...overrides };
}

export function aReleaseCommand(orderId: string, reason = 'cancelled by the customer'): ReleaseStockV1 {
  return { orderId, reason };
}

export function aCommitCommand(orderId: string): CommitStockV1 {
  return { orderId };
}

export function aRestockCommand(orderId: string, reason = 'refunded'): RestockV1 {
  return { orderId, reason };
}
