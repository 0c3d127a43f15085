import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { createLogger } from '../../../../platform/logging/logger.ts';
import type { ClaimedOperation } from '../../application/ports.ts';
import { PaymentOperationsWorker, type OperationRunner } from './payment-operations-worker.ts';

const logger = createLogger({ level: 'silent' });

/**
 * Operations queued per order, claimable one order at a time (an order's next operation waits for
 * its call in flight), each call taking `callMs`; counts the claims the worker makes.
 */
class QueuedOperations implements OperationRunner {
  claims = 0;
  readonly ran: number[] = [];
  readonly #queued: ClaimedOperation[] = [];
  readonly #ordersInFlight = new Set<string>();
  readonly #callMs: number;
  #nextId = 1;

  constructor(callMs: number) {
    this.#callMs = callMs;
  }

  queue(orderId: string): number {
    const id = this.#nextId++;
    this.#queued.push({ id, orderId, kind: 'authorize', attempts: 1, claimToken: `claim-${id}`, payment: undefined });
    return id;
  }

  claim(limit: number): Promise<ClaimedOperation[]> {
    this.claims += 1;
    const claimed: ClaimedOperation[] = [];
    for (const operation of [...this.#queued]) {
      if (claimed.length === limit) break;
      if (this.#ordersInFlight.has(operation.orderId)) continue;
      this.#ordersInFlight.add(operation.orderId);
      this.#queued.splice(this.#queued.indexOf(operation), 1);
      claimed.push(operation);
    }
    return Promise.resolve(claimed);
  }

  async run(claim: ClaimedOperation): Promise<void> {
    await sleep(this.#callMs);
    this.ran.push(claim.id);
    this.#ordersInFlight.delete(claim.orderId);
  }

  extendLease(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

async function eventually(description: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out waiting until ${description}`);
    await sleep(5);
  }
}

function startWorker(operations: OperationRunner, concurrency: number): PaymentOperationsWorker {
  // An interval far longer than any test: only wake-ups move the worker.
  const worker = new PaymentOperationsWorker({ operations, logger, intervalMs: 600_000, concurrency, heartbeatMs: 60_000 });
  worker.start();
  return worker;
}

describe('PaymentOperationsWorker', () => {
  test('when operations are recorded one at a time, then each is claimed by one look, not a look more to find nothing', async () => {
    const operations = new QueuedOperations(2);
    const worker = startWorker(operations, 4);
    try {
      await eventually('the first look at start', () => operations.claims === 1);
      for (let order = 1; order <= 5; order += 1) {
        const id = operations.queue(`order-${order}`);
        worker.wake();
        await eventually(`operation ${id} ran`, () => operations.ran.includes(id));
        await sleep(20);
      }
      assert.equal(operations.claims, 1 + 5);
    } finally {
      await worker.stop();
    }
  });

  test('when an operation is recorded while its order\'s call runs, then it is claimed as soon as that call ends', async () => {
    const operations = new QueuedOperations(50);
    const worker = startWorker(operations, 4);
    try {
      const first = operations.queue('order-1');
      worker.wake();
      await eventually('the first call runs', () => operations.claims >= 2);
      const second = operations.queue('order-1');
      worker.wake();
      await eventually('both calls ran, without waiting for the interval', () => operations.ran.includes(second));
      assert.deepEqual(operations.ran, [first, second]);
    } finally {
      await worker.stop();
    }
  });

  test('when more operations are due than the worker has slots, then it takes the rest as calls end', async () => {
    const operations = new QueuedOperations(10);
    const worker = startWorker(operations, 2);
    try {
      await eventually('the first look at start', () => operations.claims === 1);
      const ids = Array.from({ length: 7 }, (_, order) => operations.queue(`order-${order}`));
      worker.wake();
      await eventually('every operation ran, without waiting for the interval', () => ids.every((id) => operations.ran.includes(id)));
    } finally {
      await worker.stop();
    }
  });
});
