import type { JWK } from 'jose';
import type { Logger } from '../../../../platform/logging/logger.ts';
import type { ExternalIssuer, TokenVerifier } from '../../contract.ts';
import { RedisRevocationChannel } from '../redis/redis-revocation-channel.ts';
import { JoseTokenVerifier } from './jose-token-verifier.ts';
import { LiveRevocationList, type RevocationCheck } from './live-revocation-list.ts';

/**
 * A verifier for a process without identity's database (the gateway in the services shape): the
 * built-in issuer's keys come from `loadKeys` (its JWKS, fetched from the identity service) and are
 * fetched again when a token names a key id not seen yet.
 */
export function createRemoteTokenVerifier(deps: {
  issuer: string;
  audience: string;
  loadKeys: () => Promise<readonly JWK[]>;
  externalIssuers?: readonly ExternalIssuer[];
  clockSkewSeconds?: number;
  /** Verified tokens remembered (for a minute at most); 10,000 by default. */
  tokenCacheSize?: number;
  /** The revocations identity shares through Redis (followTokenRevocations), checked on every verification. */
  revocations?: TokenRevocationFollower;
}): TokenVerifier {
  return new JoseTokenVerifier({
    ...(deps.revocations === undefined ? {} : { revocations: deps.revocations.list }),
    builtIn: { issuer: deps.issuer, audience: deps.audience, loadKeys: deps.loadKeys },
    external: deps.externalIssuers ?? [],
    clockSkewSeconds: deps.clockSkewSeconds ?? 30,
    ...(deps.tokenCacheSize === undefined ? {} : { cacheSize: deps.tokenCacheSize }),
  });
}

/** A gateway's copy of the token revocations identity shares through Redis. */
export interface TokenRevocationFollower {
  /** The in-memory list the verifier checks on every request. */
  readonly list: RevocationCheck;
  /** Loads the list, listens to new entries and reads the list again every few seconds. */
  start(): Promise<void>;
  /** Whether Redis answers (for readiness). */
  isReachable(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Follows the revocations identity writes to Redis (`<prefix>token-revocations`): loaded at start,
 * updated from each announcement, and read again in full every `refreshMs` (5 s by default), so an
 * announcement missed while Redis or the connection was down is enforced within that time after.
 * While Redis cannot be read, the entries already known stay enforced (decision 0016).
 */
export function followTokenRevocations(deps: { redisUrl: string; keyPrefix: string; logger: Logger; refreshMs?: number }): TokenRevocationFollower {
  const refreshMs = deps.refreshMs ?? 5000;
  const channel = new RedisRevocationChannel({ url: deps.redisUrl, keyPrefix: deps.keyPrefix, logger: deps.logger });
  const list = new LiveRevocationList({ load: () => channel.load(), logger: deps.logger, refreshMs });
  let timer: NodeJS.Timeout | undefined;
  return {
    list,
    async start() {
      await channel.subscribe((revocation) => { void list.announce(revocation); })
        .catch((error: unknown) => { deps.logger.warn({ err: error }, 'token revocation announcements could not be subscribed to; the list is read again every few seconds'); });
      await list.refresh();
      timer ??= setInterval(() => { void list.refresh(); }, refreshMs);
      timer.unref();
    },
    isReachable: () => channel.isReachable(),
    async close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await channel.close();
    },
  };
}
