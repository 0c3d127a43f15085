import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { anOrderRequest, mugProduct, teaProduct } from '../testing/order-builder.ts';
import { InMemoryOrders } from '../testing/in-memory-orders.ts';
import { IdempotencyKeyInUseError } from './idempotency.errors.ts';
import { PlaceOrder, type PlaceOrderInput } from './place-order.ts';

// Several clients send the same order with the same Idempotency-Key at once; the scheduler decides
// when each catalogue call answers and when the clock jumps, past the takeover time of a claim an
// earlier version may have left in progress on the key. MODEL_RUNS=5000 explores further than CI does.

const takeoverAfterSeconds = 60;
const input: PlaceOrderInput = { ...anOrderRequest(), idempotencyKey: 'key-1', requestHash: 'hash-of-the-body' };
const customerId = input.customer.id;

/** How one attempt's catalogue call ends. */
type CatalogAnswer = 'prices' | 'fails';

class CatalogUnavailableError extends Error {}

const clientsArbitrary = fc.array(fc.array(fc.constantFrom<CatalogAnswer>('prices', 'fails'), { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 4 });
const clockJumpsArbitrary = fc.array(fc.constantFrom(1, takeoverAfterSeconds + 1), { maxLength: 4 });

test('when requests with one Idempotency-Key fail and retry in any interleaving, over a key free or claimed in progress by an earlier version, then at most one order exists and every answer names it', async () => {
  await fc.assert(fc.asyncProperty(fc.scheduler(), clientsArbitrary, clockJumpsArbitrary, fc.boolean(), async (scheduler, clients, clockJumps, claimedBefore) => {
    let now = new Date('2026-03-01T10:00:00Z');
    const orders = new InMemoryOrders({ now: () => now, takeoverAfterSeconds });
    const keys = orders.idempotencyKeys;
    if (claimedBefore) {
      keys.rows.set(JSON.stringify([customerId, input.idempotencyKey]), {
        requestHash: input.requestHash, state: 'in-progress', order: null, claimToken: 'claim-of-an-earlier-version', claimedAt: now,
        expiresAt: new Date(now.getTime() + 24 * 3_600_000),
      });
    }
    const answers: { client: number; orderId: string }[] = [];

    for (const seconds of clockJumps) {
      void scheduler.schedule(Promise.resolve(), `clock +${String(seconds)} s`).then(() => { now = new Date(now.getTime() + seconds * 1000); });
    }

    const placeOrderFor = (client: number, attempt: number, answer: CatalogAnswer) => new PlaceOrder({
      idempotencyKeys: keys,
      catalog: {
        findProducts: async () => {
          await scheduler.schedule(Promise.resolve(), `catalog answers client ${String(client)} attempt ${String(attempt)} (${answer})`);
          if (answer === 'fails') throw new CatalogUnavailableError('catalogue unavailable');
          return [mugProduct, teaProduct];
        },
      },
      stepTimeoutMs: 30_000,
      newId: () => `ord_client${String(client)}_attempt${String(attempt)}`,
      now: () => now,
    });

    /** Sends the order, and again after each failure, until it is answered or its attempts are spent. */
    const runClient = async (client: number, attempts: readonly CatalogAnswer[]) => {
      for (const [attempt, answer] of attempts.entries()) {
        await scheduler.schedule(Promise.resolve(), `client ${String(client)} sends attempt ${String(attempt)}`);
        try {
          const { order } = await placeOrderFor(client, attempt, answer).execute(input);
          answers.push({ client, orderId: order.id });
          return;
        } catch (error) {
          if (!(error instanceof IdempotencyKeyInUseError) && !(error instanceof CatalogUnavailableError)) throw error;
        }
      }
    };

    const clientsDone = Promise.all(clients.map((attempts, client) => runClient(client, attempts)));
    await scheduler.waitIdle();
    await clientsDone;

    const placed = [...orders.orders.keys()];
    assert.ok(placed.length <= 1, `one key placed ${String(placed.length)} orders: ${placed.join(', ')}`);
    for (const answer of answers) assert.equal(answer.orderId, placed[0], `client ${String(answer.client)} was answered with another order`);
    const key = keys.peek(customerId, input.idempotencyKey);
    if (placed.length === 1) assert.equal(key?.order?.id, placed[0], 'the key names the order placed under it');
  }), { seed: 20_260_301, numRuns: Number(process.env.MODEL_RUNS ?? 300) });
});
