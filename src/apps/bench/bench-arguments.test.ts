import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BenchArgumentError, defaultBenchOptions, parseBenchArguments, parseDuration, type BenchArguments } from './bench-arguments.ts';

test('when no option is given, then every scenario runs with the defaults', () => {
  // The command line's parser fills in other commands' defaults too (start's --role): they are not the bench's.
  const options = parseBenchArguments({ role: 'all' } as BenchArguments);

  assert.deepEqual(options.scenarios, ['catalog-read', 'place-order', 'saga', 'mixed']);
  assert.equal(options.durationSeconds, defaultBenchOptions.durationSeconds);
  assert.equal(options.connections, defaultBenchOptions.connections);
  assert.equal(options.command, 'npm run bench');
});

test('when durations are written with a unit, then they are read as seconds', () => {
  assert.equal(parseDuration('20s'), 20);
  assert.equal(parseDuration('1.5m'), 90);
  assert.equal(parseDuration('500ms'), 0.5);
  assert.equal(parseDuration('12'), 12);
});

test('when the options are valid, then they are taken and the warm-up scales with a short duration', () => {
  const options = parseBenchArguments({ duration: '5s', connections: '4', scenario: 'saga,catalog-read', 'saga-rate': '50' });

  assert.equal(options.durationSeconds, 5);
  assert.equal(options.warmUpSeconds, 1);
  assert.equal(options.connections, 4);
  assert.deepEqual(options.scenarios, ['catalog-read', 'saga']);
  assert.equal(options.sagaRate, 50);
  assert.equal(options.command, 'npm run bench -- --duration 5s --connections 4 --scenario saga,catalog-read --saga-rate 50');
});

test('when the services shape is asked for, then it is refused with a message saying it is not built yet', () => {
  assert.throws(() => parseBenchArguments({ shape: 'services' }), (error: unknown) => error instanceof BenchArgumentError && error.message.includes('services shape is not built yet'));
});

test('when an option has a bad value, then a BenchArgumentError names it', () => {
  for (const [values, named] of [
    [{ shape: 'cluster' }, /Unknown shape "cluster"/],
    [{ duration: '20x' }, /--duration "20x"/],
    [{ duration: '0s' }, /--duration 0s is out of range/],
    [{ connections: '0' }, /--connections "0"/],
    [{ connections: '2.5' }, /--connections "2.5"/],
    [{ scenario: 'checkout' }, /Unknown scenario "checkout"/],
    [{ 'saga-rate': '-3' }, /--saga-rate "-3"/],
  ] as const) {
    assert.throws(() => parseBenchArguments(values), (error: unknown) => error instanceof BenchArgumentError && named.test(error.message), JSON.stringify(values));
  }
});
