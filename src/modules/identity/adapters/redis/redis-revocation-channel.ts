import { Redis } from 'ioredis';
import type { Logger } from '../../../../platform/logging/logger.ts';
import type { RevocationAnnouncer } from '../../application/ports.ts';
import type { TokenRevocation } from '../../domain/token-revocation.ts';
import { answersPing } from '../../../../platform/redis/answers-ping.ts';

// Adds the entries (members) with their expiry in ms (scores), drops the expired ones by Redis's own
// clock, and lets the key expire with its last entry, so an idle deployment leaves nothing behind.
const writeScript = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local latest = 0
for i = 1, #ARGV, 2 do
  local expiresAt = tonumber(ARGV[i])
  if expiresAt > now then
    redis.call('ZADD', KEYS[1], expiresAt, ARGV[i + 1])
    if expiresAt > latest then latest = expiresAt end
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] ~= nil then redis.call('PEXPIREAT', KEYS[1], math.floor(tonumber(last[2])) + 1) end
return latest
`;

type WriteCommand = (key: string, ...pairs: string[]) => Promise<number>;

/**
 * Token revocations shared through Redis, for the gateways of the services shape (which have no
 * access to identity's database): a sorted set `<prefix>token-revocations` of entries scored by
 * their expiry, and a channel of the same name on which each new entry is published. Identity
 * writes and publishes (`announce`) and copies its database's entries in now and then (`mirror`),
 * so an entry whose write failed reaches Redis within seconds of Redis being back; a gateway
 * loads the set (`load`) and listens to the channel (`subscribe`).
 */
export class RedisRevocationChannel implements RevocationAnnouncer {
  readonly #redis: Redis;
  readonly #write: WriteCommand;
  readonly #key: string;
  readonly #logger: Logger;
  #subscriber: Redis | undefined;
  #warnedAt = Number.NEGATIVE_INFINITY;

  constructor(options: { url: string; keyPrefix: string; logger: Logger; timeoutMs?: number }) {
    this.#key = `${options.keyPrefix}token-revocations`;
    this.#logger = options.logger;
    this.#redis = new Redis(options.url, { maxRetriesPerRequest: 0, commandTimeout: options.timeoutMs ?? 1000, lazyConnect: true });
    this.#redis.on('error', (error: Error) => { this.#warn(error, 'Redis connection error'); });
    this.#redis.defineCommand('orderstreamWriteRevocations', { numberOfKeys: 1, lua: writeScript });
    const commands = this.#redis as unknown as { orderstreamWriteRevocations: WriteCommand };
    this.#write = (key, ...pairs) => commands.orderstreamWriteRevocations(key, ...pairs);
  }

  /** Writes the entry and publishes it; a failure is logged, not thrown (the mirror writes it again later). */
  async announce(revocation: TokenRevocation): Promise<void> {
    try {
      const member = encodeRevocation(revocation);
      await this.#write(this.#key, String(revocation.expiresAt.getTime()), member);
      await this.#redis.publish(this.#key, `${revocation.expiresAt.getTime()} ${member}`);
    } catch (error) {
      this.#warn(error, 'a token revocation could not be shared through Redis; it is written again within seconds of Redis being back');
    }
  }

  /** Writes every entry (identity's database's, in force) without publishing: gateways see them at their next full read. */
  async mirror(revocations: readonly TokenRevocation[]): Promise<void> {
    if (revocations.length === 0) return;
    await this.#write(this.#key, ...revocations.flatMap((revocation) => [String(revocation.expiresAt.getTime()), encodeRevocation(revocation)]));
  }

  /** Every entry in force; throws when Redis cannot be read. */
  async load(): Promise<TokenRevocation[]> {
    const flat = await this.#redis.zrangebyscore(this.#key, Date.now(), '+inf', 'WITHSCORES');
    const revocations: TokenRevocation[] = [];
    for (let index = 0; index + 1 < flat.length; index += 2) {
      const decoded = decodeRevocation(flat[index] ?? '', Number(flat[index + 1]));
      if (decoded !== undefined) revocations.push(decoded);
    }
    return revocations;
  }

  /** Calls `onRevocation` with each entry published from now on (on a connection of its own, re-subscribed after a reconnection). */
  async subscribe(onRevocation: (revocation: TokenRevocation) => void): Promise<void> {
    const subscriber = this.#redis.duplicate();
    this.#subscriber = subscriber;
    subscriber.on('error', (error: Error) => { this.#warn(error, 'Redis connection error (token revocation announcements)'); });
    subscriber.on('message', (_channel: string, message: string) => {
      const space = message.indexOf(' ');
      const decoded = space < 0 ? undefined : decodeRevocation(message.slice(space + 1), Number(message.slice(0, space)));
      if (decoded !== undefined) onRevocation(decoded);
    });
    await subscriber.subscribe(this.#key);
  }

  isReachable(): Promise<boolean> {
    return answersPing(this.#redis);
  }

  async close(): Promise<void> {
    await Promise.all([this.#redis, this.#subscriber].map(async (connection) => {
      if (connection === undefined) return;
      // Never connected (nothing was revoked or read): nothing to say goodbye to.
      if (connection.status === 'wait') {
        connection.disconnect();
        return;
      }
      await connection.quit().catch(() => { connection.disconnect(); });
    }));
  }

  #warn(error: unknown, message: string): void {
    const now = Date.now();
    if (now - this.#warnedAt < 10_000) return;
    this.#warnedAt = now;
    this.#logger.warn({ err: error }, message);
  }
}

/** One entry as a set member: the same entry is always the same member, so writing it twice stores it once. */
export function encodeRevocation(revocation: TokenRevocation): string {
  return revocation.kind === 'session'
    ? JSON.stringify({ kind: 'session', sessionId: revocation.sessionId })
    : JSON.stringify({ kind: 'user', userId: revocation.userId, issuedBefore: revocation.issuedBefore.getTime() });
}

/** The entry a member stands for, expiring at `expiresAtMs`; undefined for anything else (never trusted blindly). */
export function decodeRevocation(member: string, expiresAtMs: number): TokenRevocation | undefined {
  if (!Number.isFinite(expiresAtMs)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(member);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const entry = parsed as { kind?: unknown; sessionId?: unknown; userId?: unknown; issuedBefore?: unknown };
  const expiresAt = new Date(expiresAtMs);
  if (entry.kind === 'session' && typeof entry.sessionId === 'string') return { kind: 'session', sessionId: entry.sessionId, expiresAt };
  if (entry.kind === 'user' && typeof entry.userId === 'string' && typeof entry.issuedBefore === 'number' && Number.isFinite(entry.issuedBefore)) {
    return { kind: 'user', userId: entry.userId, issuedBefore: new Date(entry.issuedBefore), expiresAt };
  }
  return undefined;
}
