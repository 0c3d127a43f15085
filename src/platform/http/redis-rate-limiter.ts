import { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.ts';
import { bucketDecision, type RateLimitDecision, type RateLimiter } from './edge.ts';
import { answersPing } from '../redis/answers-ping.ts';

// One atomic step of a token bucket kept in a hash { tokens, at }. Time is Redis's own clock, so
// gateway processes whose clocks differ still share one consistent bucket. A key expires when its
// bucket would be full again: a missing key means a full bucket, so idle clients cost no memory.
const takeScript = `
local burst = tonumber(ARGV[1])
local perSecond = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * perSecond)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((burst - tokens) / perSecond * 1000)))
return { allowed, tostring(tokens) }
`;

type TakeCommand = (key: string, burst: number, perSecond: number) => Promise<[number, string]>;

/**
 * A token bucket per key in Redis (adapter of RateLimiter), so every gateway process draws from one
 * budget: `burst` requests at once, refilled at `perSecond`. Each take is one Lua script run
 * (EVALSHA), atomic across processes.
 *
 * When Redis does not answer, `take` fails open: the request passes and a warning is logged (at most
 * once per `warnEveryMs`). A rate limit protects capacity; an outage of the store that counts must
 * not stop customers from placing orders, and the database behind the API is still guarded by its
 * pool. The decision then reports a full bucket.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #redis: Redis;
  readonly #take: TakeCommand;
  readonly #burst: number;
  readonly #perSecond: number;
  readonly #keyPrefix: string;
  readonly #logger: Logger;
  readonly #warnEveryMs: number;
  #lastWarningAt = Number.NEGATIVE_INFINITY;

  constructor(options: {
    /** `redis://` or `rediss://` URL (REDIS_URL). */
    url: string;
    burst: number;
    perSecond: number;
    /** Prepended to every key, e.g. `orderstream:rate:` and `orderstream:rate-auth:` for two separate buckets. */
    keyPrefix: string;
    logger: Logger;
    /** Longest wait for Redis before failing open; 250 ms by default. */
    timeoutMs?: number;
    warnEveryMs?: number;
  }) {
    this.#burst = options.burst;
    this.#perSecond = options.perSecond;
    this.#keyPrefix = options.keyPrefix;
    this.#logger = options.logger;
    this.#warnEveryMs = options.warnEveryMs ?? 10_000;
    this.#redis = new Redis(options.url, {
      // Fail fast instead of queueing requests behind a reconnecting client.
      maxRetriesPerRequest: 0,
      commandTimeout: options.timeoutMs ?? 250,
    });
    // Without a listener, ioredis prints every reconnection error; the warning in take() says it once.
    this.#redis.on('error', (error: Error) => { this.#warn(error); });
    this.#redis.defineCommand('orderstreamTakeToken', { numberOfKeys: 1, lua: takeScript });
    const commands = this.#redis as unknown as { orderstreamTakeToken: TakeCommand };
    this.#take = (key, burst, perSecond) => commands.orderstreamTakeToken(key, burst, perSecond);
  }

  async take(key: string): Promise<RateLimitDecision> {
    try {
      const [allowed, tokens] = await this.#take(`${this.#keyPrefix}${key}`, this.#burst, this.#perSecond);
      return bucketDecision(allowed === 1, Number(tokens), this.#burst, this.#perSecond);
    } catch (error) {
      this.#warn(error);
      return bucketDecision(true, this.#burst, this.#burst, this.#perSecond);
    }
  }

  /** True when Redis answers a PING within the command timeout (readiness). */
  isReachable(): Promise<boolean> {
    return answersPing(this.#redis);
  }

  /** Closes the connection to Redis. */
  async close(): Promise<void> {
    await this.#redis.quit().catch(() => { this.#redis.disconnect(); });
  }

  #warn(error: unknown): void {
    const now = Date.now();
    if (now - this.#lastWarningAt < this.#warnEveryMs) return;
    this.#lastWarningAt = now;
    this.#logger.warn({ err: error }, 'rate limit store unavailable: letting requests through unlimited');
  }
}
