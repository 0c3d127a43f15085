import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidReservationError, ReservationTransitionError } from './inventory.errors.ts';
import {
  asFailed, commitDecision, failureOf, newReservation, releaseDecision, reservationLines, restockDecision, totalsBySku, withStatus,
  type Reservation, type ReservationStatus,
} from './reservation.ts';

const now = new Date('2026-01-02T03:04:05.000Z');

function reservationIn(status: ReservationStatus): Reservation {
  const active = newReservation('order-1', [{ sku: 'A', quantity: 1 }], now, 60);
  return status === 'failed' ? asFailed(active, { reason: 'unknown-sku', skus: ['A'] }) : { ...active, status };
}

describe('reservationLines', () => {
  test('when the same SKU appears twice (in any letter case), then its quantities are summed and lines are sorted by SKU', () => {
    const lines = reservationLines([{ sku: 'mug-2', quantity: 1 }, { sku: 'CUP-1', quantity: 2 }, { sku: ' Mug-2', quantity: 3 }]);
    assert.deepEqual(lines, [{ sku: 'CUP-1', quantity: 2 }, { sku: 'MUG-2', quantity: 4 }]);
  });

  test('when a quantity is zero, negative or fractional, then the request is rejected naming the line', () => {
    for (const [quantity, index] of [[0, 1], [-2, 1], [1.5, 1]] as const) {
      assert.throws(
        () => reservationLines([{ sku: 'A', quantity: 1 }, { sku: 'B', quantity }]),
        (error: unknown) => error instanceof InvalidReservationError && error.field === `lines.${index}.quantity`,
      );
    }
  });

  test('when there are no lines, then the request is rejected', () => {
    assert.throws(() => reservationLines([]), InvalidReservationError);
  });

  test('when summed quantities pass the safe-integer range, then the request is rejected', () => {
    assert.throws(() => reservationLines([{ sku: 'A', quantity: Number.MAX_SAFE_INTEGER }, { sku: 'a', quantity: 2 }]), InvalidReservationError);
  });
});

describe('totalsBySku', () => {
  test('when lines of several reservations share SKUs, then each SKU appears once with the total', () => {
    assert.deepEqual(
      totalsBySku([{ sku: 'B', quantity: 1 }, { sku: 'A', quantity: 2 }, { sku: 'B', quantity: 3 }]),
      [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 4 }],
    );
  });
});

describe('newReservation', () => {
  test('when made, then it is active and expires TTL seconds from now', () => {
    const reservation = newReservation('order-1', [{ sku: 'A', quantity: 1 }], now, 900);
    assert.equal(reservation.status, 'active');
    assert.equal(reservation.expiresAt.toISOString(), '2026-01-02T03:19:05.000Z');
  });

  test('when the order id is blank, then it is rejected', () => {
    assert.throws(() => newReservation('  ', [{ sku: 'A', quantity: 1 }], now, 900), InvalidReservationError);
  });
});

describe('failureOf', () => {
  test('when some SKUs are unknown and others short, then the failure names the unknown ones', () => {
    assert.deepEqual(failureOf({ unknown: ['Z', 'X'], insufficient: ['A'] }), { reason: 'unknown-sku', skus: ['X', 'Z'] });
  });

  test('when every SKU exists but some are short, then the failure is insufficient stock for those', () => {
    assert.deepEqual(failureOf({ unknown: [], insufficient: ['B', 'A'] }), { reason: 'insufficient-stock', skus: ['A', 'B'] });
  });
});

describe('reservation lifecycle', () => {
  test('when an active reservation is released, expired or committed, then it moves there', () => {
    for (const status of ['released', 'expired', 'committed'] as const) {
      assert.equal(withStatus(reservationIn('active'), status).status, status);
    }
  });

  test('when a committed reservation is restocked, then it is restocked; an expired one may still commit, or be closed as released', () => {
    assert.equal(withStatus(reservationIn('committed'), 'restocked').status, 'restocked');
    assert.equal(withStatus(reservationIn('expired'), 'committed').status, 'committed');
    assert.equal(withStatus(reservationIn('expired'), 'released').status, 'released');
  });

  test('when a move skips the lifecycle (restock an active one, release a committed one, revive a failed one), then it throws', () => {
    assert.throws(() => withStatus(reservationIn('active'), 'restocked'), ReservationTransitionError);
    assert.throws(() => withStatus(reservationIn('committed'), 'released'), ReservationTransitionError);
    assert.throws(() => withStatus(reservationIn('failed'), 'active'), ReservationTransitionError);
    assert.throws(() => asFailed(reservationIn('committed'), { reason: 'unknown-sku', skus: [] }), ReservationTransitionError);
  });

  test('when a reservation was released, then it is final: it can never be committed or move anywhere else', () => {
    for (const status of ['active', 'expired', 'committed', 'restocked'] as const) {
      assert.throws(() => withStatus(reservationIn('released'), status), ReservationTransitionError, status);
    }
  });

  test('when releasing, then an active reservation gives its units back, an expired one is closed, a missing one is recorded, and others hold nothing', () => {
    const decisions = Object.fromEntries((['active', 'failed', 'released', 'expired', 'committed', 'restocked'] as const)
      .map((status) => [status, releaseDecision(reservationIn(status))]));
    assert.deepEqual(decisions, {
      active: 'release', failed: 'nothing-held', released: 'nothing-held', expired: 'close', committed: 'nothing-held', restocked: 'nothing-held',
    });
    assert.equal(releaseDecision(undefined), 'record');
  });

  test('when committing, then only an active or expired reservation takes units; a released one is refused', () => {
    const decisions = Object.fromEntries((['active', 'failed', 'released', 'expired', 'committed', 'restocked'] as const)
      .map((status) => [status, commitDecision(reservationIn(status))]));
    assert.deepEqual(decisions, {
      active: 'commit-reserved', failed: 'cannot-commit', released: 'cannot-commit', expired: 'take-again',
      committed: 'already-committed', restocked: 'already-committed',
    });
    assert.equal(commitDecision(undefined), 'cannot-commit');
  });

  test('when restocking, then committed units go back once, and a reservation not yet committed is given up as a release would', () => {
    const decisions = Object.fromEntries((['active', 'failed', 'released', 'expired', 'committed', 'restocked'] as const)
      .map((status) => [status, restockDecision(reservationIn(status))]));
    assert.deepEqual(decisions, {
      active: 'release', failed: 'nothing-held', released: 'nothing-held', expired: 'close', committed: 'restock', restocked: 'already-restocked',
    });
    assert.equal(restockDecision(undefined), 'record');
  });
});
