import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  PaymentProviderUnavailableError,
  type AuthorizeOutcome, type ChangeOutcome, type FoundAuthorization, type PaymentProvider, type ProviderPaymentState,
} from '../../application/ports.ts';
import type { Money, ProviderOutcome } from '../../domain/payment.ts';

type IntentStatus = 'requires_capture' | 'succeeded' | 'canceled' | 'refunded';

const stateOfIntent: Record<IntentStatus, ProviderPaymentState> = {
  requires_capture: 'authorized', succeeded: 'captured', canceled: 'voided', refunded: 'refunded',
};

/** The test tokens the simulated gateway knows; any other token is declined as `invalid-token`. */
export const simulatedTokens = {
  succeeds: 'tok_visa',
  declined: 'tok_declined',
  insufficientFunds: 'tok_insufficient_funds',
  slow: 'tok_slow',
  flaky: 'tok_flaky',
} as const;

/**
 * A payment gateway without a network, behaving like a real one's test cards: `tok_visa` succeeds,
 * `tok_declined` and `tok_insufficient_funds` are declined, `tok_slow` answers after `delayMs`,
 * `tok_flaky` fails transiently the first time per idempotency key (its captures, voids and refunds
 * too), anything else is an invalid token. A repeated idempotency key gets the first answer again.
 * Memory is bounded: the oldest `capacity` keys are remembered.
 */
export class SimulatedPaymentProvider implements PaymentProvider {
  readonly #delayMs: number;
  readonly #answers: BoundedMap<string, ProviderOutcome>;
  readonly #failedOnce: BoundedMap<string, true>;
  readonly #intents: BoundedMap<string, { token: string; status: IntentStatus }>;

  constructor(options: { delayMs: number; capacity?: number }) {
    this.#delayMs = options.delayMs;
    const capacity = options.capacity ?? 100_000;
    this.#answers = new BoundedMap(capacity);
    this.#failedOnce = new BoundedMap(capacity);
    this.#intents = new BoundedMap(capacity);
  }

  async authorize(request: { orderId: string; amount: Money; token: string; idempotencyKey: string }): Promise<AuthorizeOutcome> {
    const known = this.#answers.get(request.idempotencyKey);
    if (known !== undefined && known.outcome !== 'succeeded') return known;
    const answer = await this.#authorizeOnce(request.token, request.idempotencyKey);
    this.#answers.set(request.idempotencyKey, answer);
    if (answer.outcome === 'authorized') this.#intents.set(answer.providerPaymentId, { token: request.token, status: 'requires_capture' });
    return answer;
  }

  capture(request: { orderId: string; providerPaymentId: string; amount: Money; idempotencyKey: string }): Promise<ChangeOutcome> {
    return this.#change(request.providerPaymentId, request.idempotencyKey, 'requires_capture', 'succeeded');
  }

  void(request: { orderId: string; providerPaymentId: string; idempotencyKey: string }): Promise<ChangeOutcome> {
    return this.#change(request.providerPaymentId, request.idempotencyKey, 'requires_capture', 'canceled');
  }

  refund(request: { orderId: string; providerPaymentId: string; amount: Money; idempotencyKey: string }): Promise<ChangeOutcome> {
    return this.#change(request.providerPaymentId, request.idempotencyKey, 'succeeded', 'refunded');
  }

  // Async to honour the port although nothing is awaited.
  // eslint-disable-next-line @typescript-eslint/require-await
  async lookup(request: { orderId: string; providerPaymentId: string }): Promise<ProviderPaymentState> {
    const status = this.#intents.get(request.providerPaymentId)?.status;
    if (status === undefined) return 'unknown';
    return stateOfIntent[status];
  }

  // Async to honour the port although nothing is awaited.
  // eslint-disable-next-line @typescript-eslint/require-await
  async findAuthorization(request: { orderId: string; idempotencyKey: string }): Promise<FoundAuthorization | undefined> {
    const providerPaymentId = intentIdOf(request.idempotencyKey);
    const status = this.#intents.get(providerPaymentId)?.status;
    return status === undefined ? undefined : { providerPaymentId, state: stateOfIntent[status] };
  }

  async #authorizeOnce(token: string, key: string): Promise<AuthorizeOutcome> {
    const authorized = { outcome: 'authorized', providerPaymentId: intentIdOf(key) } as const;
    switch (token) {
      case simulatedTokens.succeeds:
        return authorized;
      case simulatedTokens.slow:
        await sleep(this.#delayMs);
        return authorized;
      case simulatedTokens.flaky:
        this.#failOnce(key);
        return authorized;
      case simulatedTokens.declined:
        return { outcome: 'declined', reason: 'card-declined' };
      case simulatedTokens.insufficientFunds:
        return { outcome: 'declined', reason: 'insufficient-funds' };
      default:
        return { outcome: 'declined', reason: 'invalid-token' };
    }
  }

  // Async although nothing is awaited: the transient failure must reject, not throw synchronously.
  // eslint-disable-next-line @typescript-eslint/require-await
  async #change(providerPaymentId: string, key: string, from: IntentStatus, to: IntentStatus): Promise<ChangeOutcome> {
    const known = this.#answers.get(key);
    if (known?.outcome === 'succeeded' || known?.outcome === 'failed') return known;
    // An intent this process does not remember (it restarted) is taken to be in the expected state.
    const intent = this.#intents.get(providerPaymentId);
    if (intent?.token === simulatedTokens.flaky) this.#failOnce(key);
    let answer: ChangeOutcome;
    if (intent !== undefined && intent.status !== from) {
      answer = { outcome: 'failed', reason: `payment-intent-${intent.status}` };
    } else {
      answer = { outcome: 'succeeded' };
      if (intent !== undefined) intent.status = to;
    }
    this.#answers.set(key, answer);
    return answer;
  }

  #failOnce(key: string): void {
    if (this.#failedOnce.get(key) !== undefined) return;
    this.#failedOnce.set(key, true);
    throw new PaymentProviderUnavailableError('simulated gateway timeout (tok_flaky fails once per idempotency key)');
  }
}

/** The id of the intent an authorisation creates: one per idempotency key, so a repeat finds the same one. */
function intentIdOf(idempotencyKey: string): string {
  return `sim_pi_${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 24)}`;
}

/** A Map that forgets its oldest entries beyond `capacity`. */
class BoundedMap<Key, Value> {
  readonly #entries = new Map<Key, Value>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get(key: Key): Value | undefined {
    return this.#entries.get(key);
  }

  set(key: Key, value: Value): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }
}
