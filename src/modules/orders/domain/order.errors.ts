/** An order request breaks a rule; `field` names the input at fault. */
export class InvalidOrderError extends Error {
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`${field} ${reason}`);
    this.name = 'InvalidOrderError';
    this.field = field;
  }
}

/** Some SKUs of the order are not in the catalogue. */
export class UnknownSkuError extends Error {
  readonly skus: readonly string[];
  constructor(skus: readonly string[]) {
    super(`Not in the catalogue: ${skus.join(', ')}`);
    this.name = 'UnknownSkuError';
    this.skus = skus;
  }
}

/** No order with this id is visible to the caller. */
export class OrderNotFoundError extends Error {
  constructor(orderId: string) {
    super(`Order ${orderId} does not exist`);
    this.name = 'OrderNotFoundError';
  }
}

/** The order is already cancelled (or being cancelled) and cannot be cancelled again. */
export class OrderNotCancellableError extends Error {
  constructor(orderId: string, status: string) {
    super(`Order ${orderId} is ${status} and cannot be cancelled`);
    this.name = 'OrderNotCancellableError';
  }
}
