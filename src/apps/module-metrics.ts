import type { JobMetrics } from '../modules/jobs/index.ts';
import type { OrderMetrics } from '../modules/orders/index.ts';
import type { PaymentMetrics } from '../modules/payments/index.ts';
import type { Metrics } from '../platform/observability/metrics.ts';

/** The orders module's metrics port, on the process's Prometheus instruments. */
export function orderMetricsOf(metrics: Metrics): OrderMetrics {
  return {
    orderPlaced: () => { metrics.ordersPlaced.inc(); },
    sagaStepEnded: (step, outcome, seconds) => { metrics.sagaStepDuration.observe({ step, outcome }, seconds); },
    cancellationStarted: (cause) => { metrics.orderCancellations.inc({ cause }); },
    orderFinished: (status) => { metrics.ordersFinished.inc({ status }); },
    compensationsResent: (needsAttention) => { metrics.orderCompensationResends.inc({ needs_attention: String(needsAttention) }); },
    backlogSampled: (unfinished, limit) => {
      metrics.orderBacklog.set(unfinished);
      metrics.orderBacklogLimit.set(limit);
    },
    orderRefused: () => { metrics.ordersRefused.inc(); },
  };
}

/** The payments module's metrics port, on the process's Prometheus instruments. */
export function paymentMetricsOf(metrics: Metrics): PaymentMetrics {
  return {
    operationFailed: (kind) => { metrics.paymentOperationsFailed.inc({ kind }); },
  };
}

/** The jobs module's metrics port, on the process's Prometheus instruments. */
export function jobMetricsOf(metrics: Metrics): JobMetrics {
  return {
    attemptEnded: (kind, outcome, seconds) => { metrics.jobAttemptDuration.observe({ kind, outcome }, seconds); },
    deadLettered: (kind) => { metrics.jobsDeadLettered.inc({ kind }); },
  };
}
