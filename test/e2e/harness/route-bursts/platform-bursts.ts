import { deadLetterPaths } from '../../../../src/platform/messaging/index.ts';
import { consumingModules } from '../../../../src/apps/module-registry.ts';
import type { BurstKit, RouteBurst } from './burst-kit.ts';
import { at } from './load-run.ts';

/** Health, readiness, the API documentation and the operations console. */
export function operationsBursts({ simple }: BurstKit): RouteBurst[] {
  return [
    simple('GET /healthz', [200], () => ({ method: 'GET', path: '/healthz' })),
    simple('GET /readyz', [200], () => ({ method: 'GET', path: '/readyz' })),
    simple('GET /openapi.json', [200], () => ({ method: 'GET', path: '/openapi.json' })),
    simple('GET /asyncapi.json', [200], () => ({ method: 'GET', path: '/asyncapi.json' })),
    simple('GET /docs', [200], () => ({ method: 'GET', path: '/docs' })),
    simple('GET /docs/*', [200], () => ({ method: 'GET', path: '/docs/json' })),
    // the operations console, as `npm install` builds it
    simple('GET /console', [200], () => ({ method: 'GET', path: '/console' })),
    simple('GET /console/*', [200], () => ({ method: 'GET', path: '/console/products' })),
  ];
}

/** The dead-letter routes of every consuming module: listing, and replaying each arranged dead letter once. */
export function deadLetterBursts({ simple }: BurstKit): RouteBurst[] {
  return [
    ...consumingModules.flatMap((module): RouteBurst[] => [
      simple(`GET ${deadLetterPaths(module).list}`, [200], ({ admin }, index) => ({
        method: 'GET', path: `${deadLetterPaths(module).list}?limit=${String(1 + index)}`, token: admin,
      })),
      simple(`POST ${deadLetterPaths(module).replay}`, [202], ({ admin, deadLetters }, index) => ({
        method: 'POST', path: deadLetterPaths(module).replay.replace(':id', String(at(deadLetters.get(module) ?? [], index))), token: admin,
      })),
    ]),
  ];
}
