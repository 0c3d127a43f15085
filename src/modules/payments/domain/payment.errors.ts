/** A payment command breaks a rule (an amount that is not whole minor units, an unknown currency, no token). */
export class InvalidPaymentError extends Error {
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`${field} ${reason}`);
    this.name = 'InvalidPaymentError';
    this.field = field;
  }
}

/** No payment operation has this id. */
export class PaymentOperationNotFoundError extends Error {
  constructor(operationId: string) {
    super(`Payment operation ${operationId} does not exist`);
    this.name = 'PaymentOperationNotFoundError';
  }
}

/** A payment operation that cannot be run again: it is not failed, or the payment's state says it no longer applies. */
export class PaymentOperationNotRetryableError extends Error {
  constructor(operationId: string, reason: string) {
    super(`Payment operation ${operationId} cannot be retried: ${reason}`);
    this.name = 'PaymentOperationNotRetryableError';
  }
}
