import { InvalidReservationError, ReservationTransitionError } from './inventory.errors.ts';
import { skuKey } from './sku.ts';

/**
 * Where an order's reservation stands:
 * - `active`: units are held until `expiresAt`;
 * - `failed`: nothing was ever held (unknown SKU or not enough stock);
 * - `released`: the order was given up (released, restocked before its commit, or its commit refused)
 *   and holds nothing, for good;
 * - `expired`: the expiry sweeper gave the units back; the order's commit may still take them again;
 * - `committed`: the units left the shelf (the order was paid);
 * - `restocked`: a committed order was refunded and its units are back on the shelf.
 */
export type ReservationStatus = 'active' | 'failed' | 'released' | 'expired' | 'committed' | 'restocked';

export type ReservationFailureReason = 'insufficient-stock' | 'unknown-sku';

/** One SKU of a reservation; a reservation has at most one line per SKU. */
export interface ReservationLine {
  readonly sku: string;
  readonly quantity: number;
}

export interface ReservationFailure {
  readonly reason: ReservationFailureReason;
  readonly skus: readonly string[];
}

/** What inventory holds (or held) for one order; every order has at most one. */
export interface Reservation {
  readonly orderId: string;
  readonly status: ReservationStatus;
  /** Sorted by SKU, one line per SKU. */
  readonly lines: readonly ReservationLine[];
  readonly expiresAt: Date;
  /** Set exactly when the status is `failed`. */
  readonly failure?: ReservationFailure;
}

/** SKUs that could not be reserved: those with no stock item at all, and those with too few units available. */
export interface StockShortfall {
  readonly unknown: readonly string[];
  readonly insufficient: readonly string[];
}

const maxOrderIdLength = 200;

/**
 * Turns requested order lines into reservation lines: SKUs normalised, lines of the same SKU summed,
 * sorted by SKU. Every quantity must be a positive whole number.
 */
export function reservationLines(lines: readonly { sku: string; quantity: number }[]): ReservationLine[] {
  if (lines.length === 0) throw new InvalidReservationError('lines', 'must not be empty');
  lines.forEach((line, index) => {
    if (!Number.isSafeInteger(line.quantity) || line.quantity <= 0) {
      throw new InvalidReservationError(`lines.${index}.quantity`, 'must be a positive whole number');
    }
  });
  const summed = totalsBySku(lines.map((line) => ({ sku: skuKey(line.sku), quantity: line.quantity })));
  if (summed.some((line) => !Number.isSafeInteger(line.quantity))) throw new InvalidReservationError('lines', 'add up to too many units');
  return summed;
}

/** Sums lines per SKU, sorted by SKU: the stock change a set of reservations makes. */
export function totalsBySku(lines: readonly ReservationLine[]): ReservationLine[] {
  const totals = new Map<string, number>();
  for (const line of lines) totals.set(line.sku, (totals.get(line.sku) ?? 0) + line.quantity);
  return [...totals].sort(([a], [b]) => compareText(a, b)).map(([sku, quantity]) => ({ sku, quantity }));
}

/** Plain code-unit order: the same wherever it runs, unlike a locale's collation. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A new active reservation, held for `ttlSeconds` from `now`. */
export function newReservation(orderId: string, lines: readonly ReservationLine[], now: Date, ttlSeconds: number): Reservation {
  if (orderId.trim().length === 0 || orderId.length > maxOrderIdLength) {
    throw new InvalidReservationError('orderId', `must be 1-${maxOrderIdLength} characters`);
  }
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) throw new InvalidReservationError('ttlSeconds', 'must be a positive whole number');
  return { orderId, status: 'active', lines, expiresAt: new Date(now.getTime() + ttlSeconds * 1000) };
}

/**
 * Why a reservation failed: unknown SKUs take precedence (the order can never be served), else the
 * SKUs short of stock.
 */
export function failureOf(shortfall: StockShortfall): ReservationFailure {
  return shortfall.unknown.length > 0
    ? { reason: 'unknown-sku', skus: shortfall.unknown.toSorted(compareText) }
    : { reason: 'insufficient-stock', skus: shortfall.insufficient.toSorted(compareText) };
}

const allowedTransitions: Readonly<Record<ReservationStatus, readonly ReservationStatus[]>> = {
  active: ['failed', 'released', 'expired', 'committed'],
  failed: [],
  // Final: the order gave its stock up, so nothing may take it again, however late a commit arrives.
  released: [],
  // The sweeper took the units back but the order may still want them: its commit takes them again.
  // A compensation, or a commit that finds them gone, closes it for good.
  expired: ['committed', 'released'],
  committed: ['restocked'],
  restocked: [],
};

/** Moves a reservation along its lifecycle; any other move is a bug and throws. */
export function withStatus(reservation: Reservation, status: Exclude<ReservationStatus, 'failed'>): Reservation {
  assertTransition(reservation, status);
  return { orderId: reservation.orderId, status, lines: reservation.lines, expiresAt: reservation.expiresAt };
}

/**
 * The record of an order given up before any reservation: commands reach inventory through one
 * consumer each, so on a broker a late `reserve-stock` can follow the release (or restock, or refused
 * commit) of an order the saga already gave up. With this record in place, that reserve finds the
 * order decided and takes nothing.
 */
export function closedBeforeReserved(orderId: string, now: Date): Reservation {
  if (orderId.trim().length === 0 || orderId.length > maxOrderIdLength) {
    throw new InvalidReservationError('orderId', `must be 1-${maxOrderIdLength} characters`);
  }
  return { orderId, status: 'released', lines: [], expiresAt: now };
}

/** Marks a reservation that could not be made as failed, with the reason and SKUs. */
export function asFailed(reservation: Reservation, failure: ReservationFailure): Reservation {
  assertTransition(reservation, 'failed');
  return { ...reservation, status: 'failed', failure };
}

function assertTransition(reservation: Reservation, to: ReservationStatus): void {
  if (!allowedTransitions[reservation.status].includes(to)) throw new ReservationTransitionError(reservation.orderId, reservation.status, to);
}

/**
 * What giving an order's stock up does when it was never committed. The saga sends a release or a
 * restock only once it gave the order up, so either one closes the reservation for good (`released`),
 * whichever arrives first, and a commit arriving later is refused: an active reservation gives its
 * units back (`release`); an expired one has none left and is only closed (`close`); an order with no
 * reservation yet is recorded as released (`record`); anything else holds nothing (`nothing-held`).
 */
export type GiveUpDecision = 'release' | 'close' | 'record' | 'nothing-held';

/**
 * What releasing does (see `GiveUpDecision`). A committed reservation is left alone: the sale stands
 * until a restock returns the units.
 */
export function releaseDecision(reservation: Reservation | undefined): GiveUpDecision {
  switch (reservation?.status) {
    case 'active': return 'release';
    case 'expired': return 'close';
    case undefined: return 'record';
    case 'failed':
    case 'released':
    case 'committed':
    case 'restocked': return 'nothing-held';
  }
}

/**
 * What committing does: an active reservation's units leave the shelf; an expired one, which no
 * compensation has closed, takes its units again from what is available; a committed (or since
 * restocked) one is done; a released one (the order was given up), a failed one or none cannot be
 * committed.
 */
export function commitDecision(reservation: Reservation | undefined): 'commit-reserved' | 'take-again' | 'already-committed' | 'cannot-commit' {
  switch (reservation?.status) {
    case 'active': return 'commit-reserved';
    case 'expired': return 'take-again';
    case 'committed':
    case 'restocked': return 'already-committed';
    case 'released':
    case 'failed':
    case undefined: return 'cannot-commit';
  }
}

/**
 * What restocking does: committed units go back on the shelf, once. A restock that overtook its
 * order's commit gives the reservation up like a release (see `GiveUpDecision`), so that commit,
 * arriving later, is refused instead of taking the units for a cancelled order.
 */
export function restockDecision(reservation: Reservation | undefined): 'restock' | 'already-restocked' | GiveUpDecision {
  switch (reservation?.status) {
    case 'committed': return 'restock';
    case 'restocked': return 'already-restocked';
    default: return releaseDecision(reservation);
  }
}
