// Proves `.dependency-cruiser.cjs` catches what DESIGN.md forbids: the same config runs on a fixture
// tree that breaks each rule on purpose (scripts/architecture-fixtures/), and on the real code.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import type { ICruiseResult, IDependency } from 'dependency-cruiser';

const root = path.resolve(import.meta.dirname, '..');
const fixture = path.join(import.meta.dirname, 'architecture-fixtures');
const config = path.join(root, '.dependency-cruiser.cjs');
const depcruise = path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');

/** Runs the depcruise binary exactly as `npm run check:architecture` does, but with JSON output. */
function cruise(cwd: string, folders: string[]): ICruiseResult {
  const run = spawnSync(process.execPath, [depcruise, ...folders, '--config', config, '--output-type', 'json'], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error !== undefined) throw run.error;
  // depcruise exits with the number of errors found, so only unreadable output is a failure here.
  try {
    return JSON.parse(run.stdout) as ICruiseResult;
  } catch {
    throw new Error(`depcruise exited ${String(run.status)} without a JSON report:\n${run.stderr}`);
  }
}

/** `npm:zod` and `node:crypto` instead of resolved paths, which depend on where node_modules sits. */
function target(dependency: IDependency): string {
  if (dependency.dependencyTypes.includes('core')) return `node:${dependency.resolved.replace(/^node:/, '')}`;
  const npmPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(dependency.resolved);
  return npmPackage === null ? dependency.resolved : `npm:${npmPackage[1]!}`;
}

function dependenciesOf(result: ICruiseResult, from: string): IDependency[] {
  return result.modules.find((module) => module.source === from)?.dependencies ?? [];
}

/** Every violation as `from -> to`, grouped by rule name and sorted, so a test compares whole lists. */
function violationsByRule(result: ICruiseResult): Map<string, string[]> {
  const byRule = new Map<string, string[]>();
  for (const violation of result.summary.violations) {
    const dependency = dependenciesOf(result, violation.from).find((candidate) => candidate.resolved === violation.to);
    const line = `${violation.from} -> ${dependency === undefined ? violation.to : target(dependency)}`;
    byRule.set(violation.rule.name, [...(byRule.get(violation.rule.name) ?? []), line].sort());
  }
  return byRule;
}

const expectedViolations: Record<string, string[]> = {
  'domain-purity': [
    'src/modules/shop/domain/order.ts -> node:crypto',
    'src/modules/shop/domain/order.ts -> npm:zod',
    'src/modules/shop/domain/order.ts -> src/modules/shop/contract.ts',
  ],
  'application-layer': [
    'src/modules/shop/application/place-order.ts -> node:timers/promises',
    'src/modules/shop/application/place-order.ts -> npm:zod',
    'src/modules/shop/application/place-order.ts -> src/modules/shop/adapters/postgres/pg-order-repository.ts',
    'src/modules/shop/application/place-order.ts -> src/platform/logging/logger.ts',
  ],
  'module-boundary': [
    'src/modules/shop/adapters/http/shop-routes.ts -> src/modules/other/application/list-products.ts',
    'src/modules/shop/adapters/http/shop-routes.ts -> src/modules/other/index.ts',
    'src/modules/shop/adapters/http/shop-routes.ts -> src/modules/other/testing/product-builder.ts',
  ],
  'contract-purity': [
    'src/modules/other/contract.ts -> npm:zod',
    'src/modules/other/contract.ts -> src/modules/other/index.ts',
  ],
  'module-boundary-outside': [
    'scripts/seed.ts -> src/modules/other/testing/product-builder.ts',
    'src/apps/main.ts -> src/modules/shop/domain/order.ts',
  ],
  'route-policies-purity': [
    'src/modules/shop/adapters/http/shop-route-policies.ts -> src/platform/logging/logger.ts',
  ],
  'module-boundary-test': [
    'src/modules/shop/adapters/http/shop-routes.test.ts -> src/modules/other/domain/product.ts',
    'src/modules/shop/adapters/http/shop-routes.test.ts -> src/modules/other/index.ts',
  ],
  'module-boundary-outside-test': [
    'src/apps/main.test.ts -> src/modules/shop/adapters/postgres/pg-order-repository.ts',
  ],
  'platform-independence': [
    'src/platform/http/app.ts -> src/apps/main.ts',
    'src/platform/http/app.ts -> src/modules/shop/index.ts',
  ],
  'kernel-purity': [
    'src/kernel/backoff.ts -> node:crypto',
    'src/kernel/backoff.ts -> npm:zod',
    'src/kernel/backoff.ts -> src/modules/other/index.ts',
    'src/kernel/backoff.ts -> src/platform/logging/logger.ts',
  ],
  'layout-direction': [
    'scripts/seed.ts -> src/cli/main.ts',
    'src/platform/http/app.ts -> src/apps/main.ts',
  ],
  'image-leaves-out': [
    'src/apps/main.ts -> tools/nginx.ts',
    'src/cli/main.ts -> bench/harness.ts',
  ],
  'checkout-tools-on-demand': [
    'src/cli/checkout-tools.ts -> tools/runner.ts',
  ],
  'test-harness-for-tests': [
    'tools/runner.ts -> test/e2e/harness/probe.ts',
  ],
  'client-stands-alone': [
    'packages/client/src/client.ts -> src/platform/logging/logger.ts',
  ],
  'no-circular': [
    'src/platform/clock/clock.ts -> src/platform/clock/time-zone.ts',
  ],
};

// One import the design allows for each kind of rule; each must be seen by the cruise and not reported.
const allowedImports: [from: string, to: string][] = [
  ['src/modules/shop/domain/order.ts', 'src/modules/shop/domain/money.ts'],
  ['src/modules/shop/domain/order.test.ts', 'node:test'],
  ['src/modules/shop/domain/order.test.ts', 'src/modules/shop/testing/order-builder.ts'],
  ['src/modules/shop/application/place-order.ts', 'src/modules/shop/domain/order.ts'],
  ['src/modules/shop/application/place-order.ts', 'src/modules/shop/application/ports.ts'],
  ['src/modules/shop/application/place-order.ts', 'src/modules/shop/contract.ts'],
  ['src/modules/shop/application/place-order.test.ts', 'src/modules/shop/testing/order-builder.ts'],
  ['src/modules/shop/adapters/postgres/pg-order-repository.ts', 'npm:kysely'],
  ['src/modules/shop/adapters/postgres/pg-order-repository.ts', 'src/platform/messaging/index.ts'],
  ['src/modules/shop/adapters/http/shop-routes.ts', 'src/modules/other/contract.ts'],
  ['src/modules/shop/adapters/http/shop-routes.test.ts', 'src/modules/other/contract.ts'],
  ['src/modules/other/contract.ts', 'src/modules/other/domain/product.ts'],
  ['src/modules/shop/adapters/http/shop-routes.test.ts', 'src/modules/other/testing/product-builder.ts'],
  ['src/modules/shop/adapters/http/shop-routes.test.ts', 'src/modules/shop/adapters/http/shop-routes.ts'],
  ['src/modules/shop/index.ts', 'src/modules/shop/adapters/http/shop-routes.ts'],
  ['src/apps/main.ts', 'src/modules/shop/index.ts'],
  ['src/apps/main.test.ts', 'src/modules/shop/testing/order-builder.ts'],
  ['scripts/seed.ts', 'src/modules/shop/index.ts'],
  ['src/platform/http/app.ts', 'src/platform/logging/logger.ts'],
  ['src/platform/logging/logger.ts', 'node:util'],
  ['src/modules/shop/domain/money.ts', 'src/kernel/money.ts'],
  ['src/modules/shop/application/ports.ts', 'src/kernel/backoff.ts'],
  ['src/kernel/backoff.ts', 'src/kernel/money.ts'],
  ['src/kernel/backoff.test.ts', 'node:test'],
  ['tools/runner.ts', 'src/apps/main.ts'],
  ['bench/harness.ts', 'src/apps/main.ts'],
  ['test/e2e/harness/probe.ts', 'src/apps/main.ts'],
  ['test/e2e/flow.test.ts', 'test/e2e/harness/probe.ts'],
  ['src/cli/main.ts', 'src/cli/checkout-tools.ts'],
  ['src/apps/main.ts', 'src/modules/shop/adapters/http/shop-route-policies.ts'],
  ['packages/client/src/client.ts', 'packages/client/src/errors.ts'],
  ['src/cli/checkout-tools.ts', 'bench/harness.ts'],
];

/** The folders `npm run check:architecture` cruises (package.json), in the fixture as in the real code. */
const cruised = ['src', 'scripts', 'bench', 'tools', 'test', 'deploy', 'packages'];

describe('architecture rules on the fixture', () => {
  let result: ICruiseResult;
  let reported: Map<string, string[]>;

  before(() => {
    result = cruise(fixture, cruised.filter((folder) => folder !== 'deploy'));
    reported = violationsByRule(result);
  });

  test('when the fixture is cruised, then every import resolves, so no rule judges an unresolved name', () => {
    const unresolved = result.modules.flatMap((module) =>
      module.dependencies.filter((dependency) => dependency.couldNotResolve).map((dependency) => `${module.source} -> ${dependency.module}`));
    assert.deepEqual(unresolved, []);
  });

  for (const [rule, expected] of Object.entries(expectedViolations)) {
    test(`when the fixture breaks ${rule}, then ${rule} reports exactly those imports`, () => {
      assert.deepEqual(reported.get(rule) ?? [], [...expected].sort());
    });
  }

  test('when the fixture is cruised, then no rule outside the expected set reports anything', () => {
    assert.deepEqual([...reported.keys()].sort(), Object.keys(expectedViolations).sort());
  });

  test('when an import is allowed by the design, then the cruise sees it and no rule reports it', () => {
    const reportedLines = new Set([...reported.values()].flat());
    for (const [from, to] of allowedImports) {
      assert.ok(dependenciesOf(result, from).some((dependency) => target(dependency) === to), `expected the cruise to see ${from} -> ${to}`);
      assert.ok(!reportedLines.has(`${from} -> ${to}`), `expected ${from} -> ${to} to be allowed`);
    }
  });
});

describe('architecture rules on the real code', () => {
  test('when every folder of code is checked, then no rule is broken', () => {
    const result = cruise(root, cruised);
    assert.ok(result.summary.totalCruised > 0, 'expected the cruise to find modules');
    assert.ok(!result.modules.some((module) => module.source.startsWith('scripts/architecture-fixtures/')), 'the fixture must not be part of the real check');
    assert.deepEqual([...violationsByRule(result)], []);
  });
});
