import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BenchArgumentError, defaultBenchOptions, parseBenchArguments, parseDuration, type BenchArguments } from './bench-arguments.ts';

test('when no option is given, then every scenario runs with the defaults', () => {
  // The command line's parser fills in other commands' defaults too (start's --role): they are not the bench's.
  const options = parseBenchArguments({ role: 'all' } as BenchArguments);

  assert.deepEqual(options.scenarios, ['catalog-read', 'login-storm', 'place-order', 'saga', 'overload', 'mixed', 'console', 'export', 'import']);
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

test('when the services shape is asked for, then it is taken and the command records it', () => {
  const options = parseBenchArguments({ shape: 'services', duration: '3s' });

  assert.equal(options.shape, 'services');
  assert.equal(options.durationSeconds, 3);
  assert.equal(options.command, 'npm run bench -- --shape services --duration 3s');
});

test('when no shape is given, then the single shape runs', () => {
  assert.equal(parseBenchArguments({}).shape, 'single');
  assert.equal(parseBenchArguments({ shape: 'single' }).shape, 'single');
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

test('when a results folder and --docs none are given, then results go there and no Markdown is written', () => {
  const options = parseBenchArguments({ 'results-dir': '/tmp/bench-out', docs: 'none' });

  assert.equal(options.resultsDir, '/tmp/bench-out');
  assert.equal(options.docsFile, undefined);
  assert.equal(options.command, 'npm run bench -- --results-dir /tmp/bench-out --docs none');
});

test('when --docs names a file, then the table is written there', () => {
  assert.equal(parseBenchArguments({ docs: 'elsewhere.md' }).docsFile, 'elsewhere.md');
  assert.equal(parseBenchArguments({}).docsFile, defaultBenchOptions.docsFile);
  assert.throws(() => parseBenchArguments({ 'results-dir': ' ' }), BenchArgumentError);
});
