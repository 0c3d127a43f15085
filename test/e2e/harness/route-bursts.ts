import { documentJobBursts, notificationAdminBursts, paymentAdminBursts } from './route-bursts/admin-bursts.ts';
import { createBurstKit, type RouteBurst } from './route-bursts/burst-kit.ts';
import { catalogueBursts, inventoryBursts, orderBursts, paymentCallbackBursts } from './route-bursts/commerce-bursts.ts';
import { identityBursts } from './route-bursts/identity-bursts.ts';
import type { LoadFixture } from './route-bursts/load-fixture.ts';
import { deadLetterBursts, operationsBursts } from './route-bursts/platform-bursts.ts';

/**
 * The data a load run needs, arranged through the public API (plus the few rows no client can make:
 * an admin role, a service client, dead letters, failed payment operations), and one burst of
 * valid requests per route of the route table, each request with its own input (emails,
 * idempotency keys, refresh tokens, ids).
 *
 * This file is the load run's door; its parts live in route-bursts/.
 */

export { loadRunSettings } from './route-bursts/load-run.ts';
export type { RouteBurst } from './route-bursts/burst-kit.ts';
export { arrangeLoadFixture, normalRequests, signInRequests, type LoadFixture } from './route-bursts/load-fixture.ts';

/**
 * One burst per route a client can call, in an order where each finds what it needs: sign-ins feed
 * refreshes, refreshes feed sign-outs, uploads feed the job routes, new webhooks feed deletions.
 */
export function routeBursts(fixtureOf: () => LoadFixture): RouteBurst[] {
  const kit = createBurstKit(fixtureOf);
  return [
    ...operationsBursts(kit),
    ...identityBursts(kit),
    ...catalogueBursts(kit),
    ...inventoryBursts(kit),
    ...orderBursts(kit),
    ...documentJobBursts(kit),
    ...notificationAdminBursts(kit),
    ...paymentAdminBursts(kit),
    ...deadLetterBursts(kit),
    ...paymentCallbackBursts(kit),
  ];
}
