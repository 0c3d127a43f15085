/** A stock field breaks an inventory rule (a malformed SKU, an on-hand count out of range). */
export class InvalidStockError extends Error {
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`${field} ${reason}`);
    this.name = 'InvalidStockError';
    this.field = field;
  }
}

/** No stock is recorded for this SKU. */
export class StockItemNotFoundError extends Error {
  readonly sku: string;
  constructor(sku: string) {
    super(`No stock is recorded for SKU ${sku}`);
    this.name = 'StockItemNotFoundError';
    this.sku = sku;
  }
}

/** On-hand stock may not drop below the units already promised to orders. */
export class OnHandBelowReservedError extends Error {
  readonly sku: string;
  readonly onHand: number;
  readonly reserved: number;
  constructor(sku: string, onHand: number, reserved: number) {
    super(`SKU ${sku} has ${reserved} units reserved; on-hand stock cannot be set to ${onHand}, below that`);
    this.name = 'OnHandBelowReservedError';
    this.sku = sku;
    this.onHand = onHand;
    this.reserved = reserved;
  }
}

/** A reservation request breaks the contract (no lines, a quantity that is not a positive integer). */
export class InvalidReservationError extends Error {
  readonly field: string;
  constructor(field: string, reason: string) {
    super(`${field} ${reason}`);
    this.name = 'InvalidReservationError';
    this.field = field;
  }
}

/** A reservation was asked to move to a status its lifecycle does not allow: a bug in the caller. */
export class ReservationTransitionError extends Error {
  constructor(orderId: string, from: string, to: string) {
    super(`The reservation of order ${orderId} cannot go from ${from} to ${to}`);
    this.name = 'ReservationTransitionError';
  }
}
