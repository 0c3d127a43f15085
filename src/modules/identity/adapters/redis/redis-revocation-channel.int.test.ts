import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createLogger } from '../../../../platform/logging/logger.ts';
import { memoryLogger } from '../../../../platform/testing/memory-logger.ts';
import { requireService } from '../../../../platform/testing/services.ts';
import type { TokenRevocation } from '../../domain/token-revocation.ts';
import { LiveRevocationList } from '../tokens/live-revocation-list.ts';
import { decodeRevocation, encodeRevocation, RedisRevocationChannel } from './redis-revocation-channel.ts';

const redis = requireService('Redis', 'REDIS_URL');
const logger = createLogger({ level: 'silent' });

describe('token revocations shared through Redis', { skip: redis.skip }, () => {
  const keyPrefix = `test-revocations-${randomBytes(4).toString('hex')}:`;
  const opened: RedisRevocationChannel[] = [];
  const channel = () => {
    const created = new RedisRevocationChannel({ url: redis.url ?? '', keyPrefix, logger });
    opened.push(created);
    return created;
  };
  const raw = new Redis(redis.url ?? '');
  after(async () => {
    await Promise.all(opened.map((created) => created.close()));
    await raw.del(`${keyPrefix}token-revocations`);
    await raw.quit();
  });

  test('when identity announces an entry, then a follower hears it at once and a later load finds it, and the key expires with its last entry', async () => {
    const writer = channel();
    const follower = channel();
    const heard: TokenRevocation[] = [];
    await follower.subscribe((revocation) => heard.push(revocation));
    const session: TokenRevocation = { kind: 'session', sessionId: 'rtf_1', expiresAt: new Date(Date.now() + 60_000) };
    const user: TokenRevocation = { kind: 'user', userId: 'usr_1', issuedBefore: new Date(Date.now() - 5), expiresAt: new Date(Date.now() + 61_000) };
    await writer.announce(session);
    await writer.announce(user);
    for (let waited = 0; heard.length < 2 && waited < 5000; waited += 20) await sleep(20);
    assert.deepEqual(heard, [session, user]);
    const loaded = await channel().load();
    assert.deepEqual(loaded, [session, user]);
    const ttl = await raw.pttl(`${keyPrefix}token-revocations`);
    assert.ok(ttl > 55_000 && ttl <= 61_001, `ttl ${ttl}`);
  });

  test('when the same entries are mirrored again and expired ones are among them, then each is stored once and the expired are dropped', async () => {
    const writer = channel();
    const live: TokenRevocation = { kind: 'session', sessionId: 'rtf_mirror', expiresAt: new Date(Date.now() + 60_000) };
    await writer.mirror([live, live, { kind: 'session', sessionId: 'rtf_old', expiresAt: new Date(Date.now() - 1000) }]);
    const members = await raw.zrange(`${keyPrefix}token-revocations`, '0', '-1');
    assert.equal(members.filter((member) => member.includes('rtf_mirror')).length, 1);
    assert.equal(members.some((member) => member.includes('rtf_old')), false);
  });

  test('when a member in Redis is not an entry, then it is ignored, not trusted', async () => {
    await raw.zadd(`${keyPrefix}token-revocations`, String(Date.now() + 60_000), '{"kind":"user","userId":42}', String(Date.now() + 60_000), 'not json');
    const loaded = await channel().load();
    assert.equal(loaded.every((revocation) => revocation.kind === 'session' || typeof revocation.userId === 'string'), true);
    assert.equal(decodeRevocation(encodeRevocation({ kind: 'session', sessionId: 'x', expiresAt: new Date(5000) }), 5000)?.kind, 'session');
    assert.equal(decodeRevocation('{"kind":"session"}', 5000), undefined);
  });

  test('when Redis cannot be reached, then a list keeps enforcing what it knows and says so, and the announcement does not throw', async () => {
    const logs = memoryLogger('warn');
    const unreachable = new RedisRevocationChannel({ url: 'redis://127.0.0.1:1', keyPrefix, logger: logs.logger, timeoutMs: 200 });
    opened.push(unreachable);
    await unreachable.announce({ kind: 'session', sessionId: 'rtf_lost', expiresAt: new Date(Date.now() + 60_000) });
    const list = new LiveRevocationList({ load: () => unreachable.load(), logger: logs.logger, refreshMs: 50 });
    await list.announce({ kind: 'session', sessionId: 'rtf_known', expiresAt: new Date(Date.now() + 60_000) });
    assert.equal(await list.revokes({ subject: 'usr_2', sessionId: 'rtf_known', issuedAtMs: Date.now() }), true);
    assert.equal(await list.revokes({ subject: 'usr_2', sessionId: 'rtf_other', issuedAtMs: Date.now() }), false);
    assert.ok(logs.lines().some((line) => String(line.msg).includes('token revocations could not be read')), logs.text());
  });

  test('when an entry reaches Redis without an announcement, then a following list enforces it at its next full read', async () => {
    const follower = channel();
    const list = new LiveRevocationList({ load: () => follower.load(), logger, refreshMs: 100 });
    const token = { subject: 'usr_3', sessionId: 'rtf_quiet', issuedAtMs: Date.now() };
    assert.equal(await list.revokes(token), false);
    await channel().mirror([{ kind: 'session', sessionId: 'rtf_quiet', expiresAt: new Date(Date.now() + 60_000) }]);
    let refused = false;
    for (let waited = 0; !refused && waited < 3000; waited += 50) {
      await sleep(50);
      refused = await list.revokes(token);
    }
    assert.equal(refused, true);
  });
});
