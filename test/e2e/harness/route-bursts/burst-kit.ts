import type { BurstAnswer, BurstRequest } from '../concurrent-burst.ts';
import { registerAccounts } from './fixture-pools.ts';
import type { LoadFixture } from './load-fixture.ts';
import { range } from './load-run.ts';

/** A route of the route table and how to call it many times at once. */
export interface RouteBurst {
  /** As in the route table: `POST /v1/orders/:id/cancel`. */
  route: string;
  /** Statuses of a request the route served (at least one answer of the burst must have one). */
  expected: readonly number[];
  /** `count` requests, each with its own valid input; arranges what they need first. */
  requests(count: number): Promise<BurstRequest[]>;
  /** Keeps from the answers what later bursts use (refresh tokens, ids). */
  keep?(answers: readonly BurstAnswer[]): void;
}

/** What every burst is built with: the fixture as arranged by then, and the helpers bursts share. */
export interface BurstKit {
  fixtureOf: () => LoadFixture;
  /** A burst of `count` requests, each made by `request` from the fixture and its index. */
  simple: (route: string, expected: readonly number[], request: (fixture: LoadFixture, index: number) => BurstRequest) => RouteBurst;
  /** Keeps the refresh tokens of the sign-ins a burst was answered with, for later bursts. */
  keepRefreshTokens: (answers: readonly BurstAnswer[]) => void;
  /** The user ids of `count` accounts of the bursts' own, registered the first time they are needed. */
  managedUsers: (count: number) => Promise<string[]>;
}

/** The helpers of the bursts of one load run (its own accounts included). */
export function createBurstKit(fixtureOf: () => LoadFixture): BurstKit {
  const simple = (route: string, expected: readonly number[], request: (fixture: LoadFixture, index: number) => BurstRequest): RouteBurst => ({
    route, expected,
    requests: (count) => Promise.resolve(range(count).map((index) => request(fixtureOf(), index))),
  });
  const keepRefreshTokens = (answers: readonly BurstAnswer[]) => {
    for (const answer of answers) {
      if (answer.status === 200) fixtureOf().refreshTokens.push((JSON.parse(answer.text) as { refreshToken: string }).refreshToken);
    }
  };

  let managed: string[] = [];
  const managedUsers = async (count: number): Promise<string[]> => {
    if (managed.length < count) managed = [...managed, ...await registerAccounts(fixtureOf(), count - managed.length)];
    return managed.slice(0, count);
  };
  return { fixtureOf, simple, keepRefreshTokens, managedUsers };
}
