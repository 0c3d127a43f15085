import type { Order } from '../domain/order.ts';
import { compensationResends, needsAttention } from '../domain/order-saga.ts';
import type { OrderMetrics, SagaStepOutcome } from './ports.ts';

/** Reports nothing: the default where no one watches (use-case tests, tools). */
export const noOrderMetrics: OrderMetrics = {
  orderPlaced: () => undefined,
  sagaStepEnded: () => undefined,
  cancellationStarted: () => undefined,
  orderFinished: () => undefined,
  compensationsResent: () => undefined,
  backlogSampled: () => undefined,
  orderRefused: () => undefined,
};

/**
 * Reports what one committed saga transition did: the forward step it ended (timed from the
 * order's previous change, which is when that step started), a compensation it began and the
 * terminal status it reached. `outcome` says how a step in flight ended, should one have.
 */
export function reportTransition(metrics: OrderMetrics, before: Order, after: Order, now: Date, outcome: SagaStepOutcome): void {
  if (before.currentStep !== null && after.currentStep !== before.currentStep) {
    metrics.sagaStepEnded(before.currentStep, outcome, Math.max(0, now.getTime() - before.updatedAt.getTime()) / 1000);
  }
  if (!isCompensating(before) && isCompensating(after)) {
    // The domain names why in the first timeline entry of the compensation: a fixed set of step names.
    metrics.cancellationStarted(after.timeline[before.timeline.length]?.step ?? 'unknown');
  }
  if (after.status !== before.status && (after.status === 'CONFIRMED' || after.status === 'CANCELLED')) metrics.orderFinished(after.status);
  if (compensationResends(after) > compensationResends(before)) metrics.compensationsResent(needsAttention(after));
}

function isCompensating(order: Order): boolean {
  return order.status === 'CANCELLING' || order.status === 'CANCELLED';
}
