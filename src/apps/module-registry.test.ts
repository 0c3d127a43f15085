import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { configSchema, loadConfig } from '../platform/config/config.ts';
import { findPolicy, type RoutePolicy } from '../platform/http/edge.ts';
import { routePolicies } from './gateway/route-policies.ts';
import { moduleFactories } from './module-factories.ts';
import { databaseVariableOf, moduleNames, moduleRegistry } from './module-registry.ts';

/*
 * The registry is the one list of modules; config (a static schema, since it declares the
 * environment) and the gateway's route table are checked against it here, so they cannot drift.
 */

const describedVariables = Object.entries(configSchema.shape)
  .filter(([name]) => name !== 'DATABASE_URL' && name.endsWith('_DATABASE_URL'))
  .map(([name, schema]) => ({ name, description: schema.description ?? '' }));

describe('the module registry and config', () => {
  test('when config declares the modules\' own database variables, then they are exactly the registry\'s, each described with its module\'s role', () => {
    assert.deepEqual(describedVariables.map((variable) => variable.name).sort(), moduleNames.map(databaseVariableOf).sort());
    for (const name of moduleNames) {
      const declared = describedVariables.find((variable) => variable.name === databaseVariableOf(name));
      assert.match(declared?.description ?? '', new RegExp(`\\(\`--role ${name}\`\\)`), databaseVariableOf(name));
    }
  });

  test('when a module\'s database variable holds a bad value, then the error names the variable and hides the value (it may carry a password)', () => {
    for (const name of moduleNames) {
      const variable = databaseVariableOf(name);
      assert.throws(() => loadConfig({ [variable]: 'mysql://admin:hunter2@db/orders' }), (error: Error) => {
        assert.match(error.message, new RegExp(`${variable}=\\(value hidden\\)`));
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      });
    }
  });

  test('when GATEWAY_UPSTREAMS is described, then it names every module of the registry and the documentation, nothing else', () => {
    const names = /names from the route table: ([a-z, ]+);/.exec(configSchema.shape.GATEWAY_UPSTREAMS.description ?? '')?.[1]?.split(', ');
    assert.deepEqual(names, [...moduleNames, 'docs']);
  });
});

describe('the module registry and the route table', () => {
  const upstreams = new Set(routePolicies.map((policy) => policy.upstream));

  test('when the gateway builds its route table, then every module of the registry is routed, and nothing but the modules, its probes and the documentation', () => {
    for (const name of moduleNames) assert.ok(upstreams.has(name), `the gateway routes nothing to ${name}`);
    assert.deepEqual([...upstreams].filter((upstream) => !(moduleNames as readonly string[]).includes(upstream)).sort(), ['docs', 'gateway']);
  });

  test('when a module declares a route, then the gateway has its policy and sends it to that module', () => {
    for (const entry of moduleRegistry) {
      for (const route of entry.routes) {
        assert.deepEqual(findPolicy(routePolicies, route.method, route.url), { ...route, upstream: entry.name }, `${route.method} ${route.url}`);
      }
    }
  });

  test('when the route table is read, then no two policies match one route, so its order cannot change who may call what', () => {
    const overlapping = (one: RoutePolicy, other: RoutePolicy): boolean => findPolicy([one], other.method, other.url) !== undefined;
    const clashes = routePolicies.flatMap((one, index) => routePolicies.slice(index + 1)
      .filter((other) => overlapping(one, other) || overlapping(other, one))
      .map((other) => `${one.method} ${one.url} / ${other.method} ${other.url}`));
    assert.deepEqual(clashes, []);
  });

  test('when a module is in the registry, then it has a factory and migrations of its own schema', () => {
    assert.deepEqual(Object.keys(moduleFactories).sort(), [...moduleNames].sort());
    for (const name of moduleNames) assert.equal(moduleFactories[name].migrations.module, name);
  });
});

describe('the module registry\'s own imports', () => {
  test('when the registry is read, then it loads no code but the modules\' route policies, which load none (only types), so the gateway, the runner and the CLI read it without loading the modules', () => {
    const importsOf = (file: string): string[] => readFileSync(path.join(import.meta.dirname, file), 'utf8').split('\n').filter((line) => /^import\b/.test(line));
    const loading = (file: string): string[] => importsOf(file).filter((line) => !line.startsWith('import type '));
    const policiesOf = (line: string): string | undefined => /from '(\.\.\/modules\/([a-z]+)\/adapters\/http\/\2-route-policies\.ts)';$/.exec(line)?.[1];
    assert.ok(importsOf('module-registry.ts').length > 0);
    assert.deepEqual(loading('module-registry.ts').filter((line) => policiesOf(line) === undefined), []);
    for (const line of loading('module-registry.ts')) assert.deepEqual(loading(policiesOf(line) ?? ''), [], line);
  });
});

describe('the "Adding a module" section of docs/architecture.md', () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const architecture = readFileSync(path.join(root, 'docs/architecture.md'), 'utf8');
  const section = /^## Adding a module\n([\s\S]*?)^## /m.exec(architecture)?.[1] ?? '';
  const steps = section.split(/^\d+\. /m).slice(1);
  const fieldsOf = (step: string | undefined): string[] => [...(step ?? '').matchAll(/`([a-z][A-Za-z]*)`/g)].map((match) => match[1] ?? '').sort();

  test('when it lists a registry entry\'s fields, then they are the registry\'s own', () => {
    assert.equal(steps.length, 4, 'four numbered steps');
    for (const entry of moduleRegistry) assert.deepEqual(fieldsOf(steps[1]), Object.keys(entry).sort(), entry.name);
  });

  test('when it lists a factory entry\'s fields, then they are the factories\' own', () => {
    for (const name of moduleNames) assert.deepEqual(fieldsOf(steps[2]), Object.keys(moduleFactories[name]).sort(), name);
  });

  test('when it names a file or folder, then it exists', () => {
    const named = [...section.matchAll(/`((?:src|deploy)\/[^`<]*)`/g)].map((match) => match[1] ?? '');
    assert.ok(named.length >= 4, named.join(', '));
    assert.deepEqual(named.filter((file) => !existsSync(path.join(root, file))), []);
  });
});
