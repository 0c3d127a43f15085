/** A payment command breaks a rule (an amount that is not whole minor units, an unknown currency, no token). */
export class InvalidPaymentError extends Error {
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`${field} ${reason}`);
    this.name = 'InvalidPaymentError';
    this.field = field;
  }
}
