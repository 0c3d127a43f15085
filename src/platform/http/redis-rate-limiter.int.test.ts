import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { createLogger, type Logger } from '../logging/logger.ts';
import { requireService } from '../testing/services.ts';
import type { RateLimitDecision } from './edge.ts';
import { RedisRateLimiter } from './redis-rate-limiter.ts';

const redis = requireService('Redis', 'REDIS_URL');
const silent = createLogger({ level: 'silent' });
const opened: RedisRateLimiter[] = [];
after(async () => { await Promise.all(opened.map((limiter) => limiter.close())); });

function limiter(options: { url?: string; burst: number; perSecond: number; keyPrefix: string; logger?: Logger }): RedisRateLimiter {
  const created = new RedisRateLimiter({ url: options.url ?? redis.url ?? '', burst: options.burst, perSecond: options.perSecond, keyPrefix: options.keyPrefix, logger: options.logger ?? silent });
  opened.push(created);
  return created;
}

describe('RedisRateLimiter', { skip: redis.skip }, () => {
  test('when two gateway processes take from one key, then they share one budget', async () => {
    const keyPrefix = `test:rate:${randomUUID()}:`;
    const first = limiter({ burst: 5, perSecond: 0.1, keyPrefix });
    const second = limiter({ burst: 5, perSecond: 0.1, keyPrefix });
    const decisions: RateLimitDecision[] = [];
    for (let index = 0; index < 6; index += 1) decisions.push(await (index % 2 === 0 ? first : second).take('203.0.113.7'));
    assert.deepEqual(decisions.map((decision) => decision.allowed), [true, true, true, true, true, false]);
    assert.deepEqual(decisions.map((decision) => decision.remaining), [4, 3, 2, 1, 0, 0]);
    const refused = decisions.at(-1);
    assert.ok(refused);
    assert.equal(refused.limit, 5);
    assert.ok(refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 10, `retry after ${refused.retryAfterSeconds}`);
    assert.ok(refused.resetSeconds >= 40, `reset ${refused.resetSeconds}`);
    assert.equal((await first.take('198.51.100.1')).allowed, true, 'another key has its own bucket');
  });

  test('when time passes, then the bucket refills at the configured rate', async () => {
    const keyPrefix = `test:rate:${randomUUID()}:`;
    const bucket = limiter({ burst: 2, perSecond: 10, keyPrefix });
    assert.equal((await bucket.take('ip')).allowed, true);
    assert.equal((await bucket.take('ip')).allowed, true);
    assert.equal((await bucket.take('ip')).allowed, false);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal((await bucket.take('ip')).allowed, true);
  });

  test('when a bucket would be full again, then its key has expired', async () => {
    const keyPrefix = `test:rate:${randomUUID()}:`;
    const bucket = limiter({ burst: 1, perSecond: 20, keyPrefix });
    assert.equal((await bucket.take('ip')).allowed, true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { Redis } = await import('ioredis');
    const client = new Redis(redis.url ?? '');
    try {
      assert.equal(await client.exists(`${keyPrefix}ip`), 0);
    } finally {
      await client.quit();
    }
  });

  test('when Redis does not answer, then take fails open and a warning is logged', async () => {
    // A port that was just free: nothing listens there, so every connection is refused.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const lines: { level: string; msg: string }[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => { lines.push(JSON.parse(line) as { level: string; msg: string }); } } });
    const down = limiter({ url: `redis://127.0.0.1:${port}`, burst: 1, perSecond: 0.1, keyPrefix: 'test:down:', logger });
    const started = performance.now();
    const decisions = [await down.take('ip'), await down.take('ip'), await down.take('ip')];
    assert.deepEqual(decisions.map((decision) => decision.allowed), [true, true, true]);
    assert.ok(performance.now() - started < 3000, 'failing open must not wait long');
    assert.ok(lines.some((line) => line.level === 'warn' && line.msg.includes('rate limit store unavailable')), JSON.stringify(lines));
  });
});
