import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { anOrderRequest, mugProduct, teaProduct } from '../testing/order-builder.ts';
import { InMemoryOrders } from '../testing/in-memory-orders.ts';
import { IdempotencyKeyInUseError } from './idempotency.errors.ts';
import { PlaceOrder, type PlaceOrderInput } from './place-order.ts';
import type { IdempotencyKeys } from './ports.ts';

// Several clients send the same order with the same Idempotency-Key at once; the scheduler decides
// when each catalogue call answers and when the clock jumps past the takeover time, so a stalled
// request may be taken over by a retry. MODEL_RUNS=5000 explores further than CI does.

const takeoverAfterSeconds = 60;
const input: PlaceOrderInput = { ...anOrderRequest(), idempotencyKey: 'key-1', requestHash: 'hash-of-the-body' };
const customerId = input.customer.id;

/** How one attempt's catalogue call ends. */
type CatalogAnswer = 'prices' | 'fails';

class CatalogUnavailableError extends Error {}

const clientsArbitrary = fc.array(fc.array(fc.constantFrom<CatalogAnswer>('prices', 'fails'), { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 4 });
const clockJumpsArbitrary = fc.array(fc.constantFrom(1, takeoverAfterSeconds + 1), { maxLength: 4 });

test('when requests with one Idempotency-Key stall past the takeover time, fail and retry in any interleaving, then at most one order exists, every answer names it and no request removes another\'s claim', async () => {
  await fc.assert(fc.asyncProperty(fc.scheduler(), clientsArbitrary, clockJumpsArbitrary, async (scheduler, clients, clockJumps) => {
    let now = new Date('2026-03-01T10:00:00Z');
    const orders = new InMemoryOrders({ now: () => now, takeoverAfterSeconds });
    const keys = orders.idempotencyKeys;
    let holder: number | undefined; // the client whose claim the key holds, as far as the clients can tell
    const releasedOthersClaims: string[] = [];
    const answers: { client: number; orderId: string }[] = [];

    for (const seconds of clockJumps) {
      void scheduler.schedule(Promise.resolve(), `clock +${String(seconds)} s`).then(() => { now = new Date(now.getTime() + seconds * 1000); });
    }

    /** The port as one client's requests see it: it notes who holds the claim and whose claim a release removes. */
    const keysSeenBy = (client: number): IdempotencyKeys => ({
      claim: async (...args) => {
        const claim = await keys.claim(...args);
        if (claim.kind === 'claimed') holder = client;
        return claim;
      },
      release: async (...args) => {
        const before = keys.peek(customerId, input.idempotencyKey);
        await keys.release(...args);
        if (holder !== client && before?.state === 'in-progress' && keys.peek(customerId, input.idempotencyKey) === undefined) {
          releasedOthersClaims.push(`client ${String(client)} released the claim of client ${String(holder)}`);
        }
      },
      lookUp: (...args) => keys.lookUp(...args),
    });

    const placeOrderFor = (client: number, attempt: number, answer: CatalogAnswer) => new PlaceOrder({
      transactions: orders,
      idempotencyKeys: keysSeenBy(client),
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
    assert.deepEqual(releasedOthersClaims, []);
  }), { seed: 20_260_301, numRuns: Number(process.env.MODEL_RUNS ?? 300) });
});
