import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { revocationExpiry, RevocationSet } from './token-revocation.ts';

const at = (iso: string) => new Date(iso);
const now = at('2026-01-01T12:00:00.000Z').getTime();

describe('the set of token revocations', () => {
  test('when a session is revoked, then its tokens are refused and another session\'s are not', () => {
    const set = new RevocationSet();
    set.add({ kind: 'session', sessionId: 'rtf_a', expiresAt: at('2026-01-01T12:15:30Z') });
    assert.equal(set.revokes({ subject: 'usr_1', sessionId: 'rtf_a', issuedAtMs: now - 1000 }, now), true);
    assert.equal(set.revokes({ subject: 'usr_1', sessionId: 'rtf_b', issuedAtMs: now - 1000 }, now), false);
  });

  test('when a user is revoked at T, then their tokens issued before T are refused and those issued at or after T are not', () => {
    const set = new RevocationSet();
    set.add({ kind: 'user', userId: 'usr_1', issuedBefore: new Date(now), expiresAt: at('2026-01-01T12:15:30Z') });
    assert.equal(set.revokes({ subject: 'usr_1', sessionId: 'rtf_a', issuedAtMs: now - 1 }, now), true);
    assert.equal(set.revokes({ subject: 'usr_1', sessionId: 'rtf_b', issuedAtMs: now }, now), false);
    assert.equal(set.revokes({ subject: 'usr_1', sessionId: 'rtf_b', issuedAtMs: now + 400 }, now + 500), false);
    assert.equal(set.revokes({ subject: 'usr_2', sessionId: 'rtf_c', issuedAtMs: now - 1 }, now), false);
  });

  test('when a user revocation meets a token that does not say when it was issued, then the token is refused', () => {
    const set = new RevocationSet();
    set.add({ kind: 'user', userId: 'usr_1', issuedBefore: new Date(now), expiresAt: at('2026-01-01T12:15:30Z') });
    assert.equal(set.revokes({ subject: 'usr_1', sessionId: undefined, issuedAtMs: undefined }, now), true);
  });

  test('when an earlier user revocation arrives after a later one, then the later cut-off stays', () => {
    const set = new RevocationSet();
    set.add({ kind: 'user', userId: 'usr_1', issuedBefore: new Date(now), expiresAt: new Date(now + 930_000) });
    set.add({ kind: 'user', userId: 'usr_1', issuedBefore: new Date(now - 60_000), expiresAt: new Date(now + 870_000) });
    assert.equal(set.revokes({ subject: 'usr_1', sessionId: undefined, issuedAtMs: now - 30_000 }, now), true);
    assert.equal(set.size, 1);
  });

  test('when entries expire, then they refuse nothing and pruning drops them', () => {
    const set = new RevocationSet();
    const expiresAt = revocationExpiry(new Date(now), 900, 30);
    assert.equal(expiresAt.getTime(), now + 930_000);
    set.add({ kind: 'session', sessionId: 'rtf_a', expiresAt });
    set.add({ kind: 'user', userId: 'usr_1', issuedBefore: new Date(now), expiresAt });
    const later = expiresAt.getTime();
    assert.equal(set.revokes({ subject: 'usr_1', sessionId: 'rtf_a', issuedAtMs: now - 1 }, later), false);
    set.prune(later);
    assert.equal(set.size, 0);
  });
});
