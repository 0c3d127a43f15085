import { BackgroundLoop, type BackgroundTask } from '../../../../platform/background/background-loop.ts';
import type { Logger } from '../../../../platform/logging/logger.ts';
import { continueTrace } from '../../../../platform/observability/tracing.ts';
import type { ClaimedOperation } from '../../application/ports.ts';
import type { RunPaymentOperations } from '../../application/run-payment-operations.ts';

/** What the worker needs of `RunPaymentOperations`. */
export type OperationRunner = Pick<RunPaymentOperations, 'claim' | 'run' | 'extendLease'>;

/**
 * Runs payment operations in the background, up to `concurrency` provider calls at once: a slow
 * call holds one slot, not the whole worker. Sleeps until woken (a consumer recorded work) or
 * `intervalMs` passes (retries and expired leases come due by time). Renews the lease of each
 * call in flight every `heartbeatMs`, so leases can be short and a crashed worker's operations
 * are taken over soon. `stop()` waits for the calls in flight to be settled.
 */
export class PaymentOperationsWorker implements BackgroundTask {
  readonly name = 'payments.operations-worker';
  readonly #operations: OperationRunner;
  readonly #logger: Logger;
  readonly #concurrency: number;
  readonly #heartbeatMs: number;
  readonly #loop: BackgroundLoop;
  readonly #inFlight = new Set<Promise<void>>();
  /**
   * Whether a call that ends should make the worker look again: work was recorded while calls ran
   * (an operation may wait for its order's call in flight), or the last look stopped at the limit.
   */
  #lookAgainWhenACallEnds = false;

  constructor(options: { operations: OperationRunner; logger: Logger; intervalMs: number; concurrency: number; heartbeatMs: number }) {
    this.#operations = options.operations;
    this.#logger = options.logger;
    this.#concurrency = Math.max(1, options.concurrency);
    this.#heartbeatMs = options.heartbeatMs;
    this.#loop = new BackgroundLoop({ name: this.name, intervalMs: options.intervalMs, logger: options.logger, step: () => this.#step() });
  }

  start(): void {
    this.#loop.start();
  }

  /** Looks for due operations now. */
  wake(): void {
    if (this.#inFlight.size > 0) this.#lookAgainWhenACallEnds = true;
    this.#loop.wake();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
    await Promise.all(this.#inFlight);
  }

  /**
   * Claims what is due, up to the free slots. Only a claim that filled them may leave more due, so
   * only then does the loop look again at once; otherwise it sleeps until woken (work recorded, or a
   * call ended that something waited for) or the interval passes (retries and leases come due by time).
   */
  async #step(): Promise<number> {
    const free = this.#concurrency - this.#inFlight.size;
    if (free <= 0) {
      this.#lookAgainWhenACallEnds = true;
      return 0;
    }
    const claimed = await this.#operations.claim(free);
    for (const operation of claimed) {
      const heartbeat = setInterval(() => { void this.#renew(operation); }, this.#heartbeatMs);
      // Its span continues the trace of the command that queued the operation.
      const running: Promise<void> = continueTrace(`payments.${operation.kind}`, operation.traceparent, () => this.#operations.run(operation), {
        attributes: { 'orderstream.order_id': operation.orderId, 'orderstream.payment.operation_id': operation.id, 'orderstream.payment.attempt': operation.attempts },
      })
        .catch((error: unknown) => {
          // Left claimed: the lease runs out and the operation is tried again.
          this.#logger.error({ err: error, orderId: operation.orderId, operationId: operation.id }, 'payment operation could not be settled; it will be retried when its lease ends');
        })
        .finally(() => {
          clearInterval(heartbeat);
          this.#inFlight.delete(running);
          // Kept while calls run: what was recorded may wait for a call other than this one.
          if (this.#lookAgainWhenACallEnds) {
            if (this.#inFlight.size === 0) this.#lookAgainWhenACallEnds = false;
            this.#loop.wake();
          }
        });
      this.#inFlight.add(running);
    }
    return claimed.length === free ? claimed.length : 0;
  }

  async #renew(operation: ClaimedOperation): Promise<void> {
    try {
      if (!(await this.#operations.extendLease(operation))) {
        this.#logger.warn({ orderId: operation.orderId, operationId: operation.id }, 'lost the claim on a payment operation while its provider call runs');
      }
    } catch (error) {
      this.#logger.warn({ err: error, orderId: operation.orderId, operationId: operation.id }, 'could not renew the claim on a payment operation');
    }
  }
}
