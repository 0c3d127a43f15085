import type { AuthorizePaymentV1 } from '../contract.ts';
import { createPayment } from '../domain/payment.ts';
import type { PaymentRepository } from './ports.ts';

/** What became of an authorisation request. */
export type AuthorizationRequestResult =
  /** The authorisation waits for the worker. */
  | 'queued'
  /** The order already has a payment: a repeated command has no second effect. */
  | 'duplicate'
  /** The order asked to void or refund before this arrived: nothing will be held. */
  | 'already-cancelled';

/**
 * Records an order's payment and queues its authorisation; the provider is called later by the
 * worker, never here (this runs inside the message's transaction).
 */
export class RequestAuthorization {
  readonly #payments: PaymentRepository;
  readonly #newId: () => string;
  readonly #now: () => Date;

  constructor(deps: { payments: PaymentRepository; newId?: () => string; now?: () => Date }) {
    this.#payments = deps.payments;
    this.#newId = deps.newId ?? (() => `pay_${crypto.randomUUID()}`);
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(command: AuthorizePaymentV1): Promise<AuthorizationRequestResult> {
    // Messages retried after a failure can overtake later ones: a void may come first, and then
    // the authorisation must not hold money that nobody will release.
    await this.#payments.lockOrder(command.orderId);
    const cancelled = await this.#payments.hasOperation(command.orderId, ['void', 'refund']);
    const payment = createPayment(command, this.#newId(), this.#now(), cancelled ? 'voided' : 'pending');
    if (!(await this.#payments.addPayment(payment))) return 'duplicate';
    if (cancelled) return 'already-cancelled';
    await this.#payments.addOperation(command.orderId, 'authorize');
    return 'queued';
  }
}
