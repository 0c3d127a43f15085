import { scenarioNames, type ScenarioName } from './bench-result.ts';
import type { BenchOptions } from './bench.ts';

/** Defaults that keep a full `npm run bench` under five minutes on a 2-core machine. */
export const defaultBenchOptions = {
  shape: 'single',
  durationSeconds: 10,
  warmUpSeconds: 2,
  connections: 16,
  scenarios: scenarioNames,
  products: 200,
  customers: 8,
  drainTimeoutSeconds: 90,
  resultsDir: 'bench/results',
  docsFile: 'docs/benchmarks.md',
  command: 'npm run bench',
} as const satisfies Omit<BenchOptions, 'log'>;

/** A bad `orderstream bench` option, worded for the person who typed it. */
export class BenchArgumentError extends Error {}

/** The options `orderstream bench` accepts, as parsed by `node:util` parseArgs (all strings). */
export interface BenchArguments {
  shape?: string | undefined;
  duration?: string | undefined;
  connections?: string | undefined;
  scenario?: string | undefined;
  'saga-rate'?: string | undefined;
  'results-dir'?: string | undefined;
  docs?: string | undefined;
}

export const benchUsage = `Usage: orderstream bench [--shape single|services] [--duration 10s] [--connections 16] [--scenario NAME[,NAME...]] [--saga-rate N]

  --shape        single: OrderStream in one process, as npm start runs it (default); services: nginx, two gateways and a
                 process per service, each service on its own database, Kafka (KAFKA_BROKERS, else the local
                 broker of infra/kafka/run.sh) and Redis (REDIS_URL, else redis://127.0.0.1:6379) between them;
                 it has no db-ceiling
  --duration     measured time per scenario: 20s, 1.5m, 500ms or plain seconds (default 10s; each also gets a warm-up)
  --connections  concurrent HTTP connections, and database connections of the database ceilings (default 16)
  --scenario     ${scenarioNames.join(', ')} (default: all); export and import move
                 100,000 orders and catalogue rows through a job each, against PostgreSQL's COPY of the same rows (single shape only)
  --saga-rate    orders per second the saga scenario offers, and half what overload offers (default: the highest rate a short
                 search finds the saga keeping, POST→CONFIRMED p99 under 1 s, starting from half place-order's end-to-end rate)
  --results-dir  folder of the JSON results (default bench/results)
  --docs         Markdown file whose generated table is replaced, or none (default docs/benchmarks.md)

Tracing is measured as configured: with OTEL_EXPORTER_OTLP_ENDPOINT set, OrderStream exports its spans
during the run and the report says so (bench/measure-tracing.ts compares off and on).`;

/** Turns the command line's options into benchmark options; a bad value throws a BenchArgumentError naming it. */
export function parseBenchArguments(values: BenchArguments): Omit<BenchOptions, 'log'> {
  const shape = values.shape ?? defaultBenchOptions.shape;
  if (shape !== 'single' && shape !== 'services') throw new BenchArgumentError(`Unknown shape "${shape}"; use single or services.\n\n${benchUsage}`);
  const durationSeconds = values.duration === undefined ? defaultBenchOptions.durationSeconds : parseDuration(values.duration);
  const connections = values.connections === undefined ? defaultBenchOptions.connections : parseWhole('--connections', values.connections, 1, 1000);
  const scenarios = values.scenario === undefined || values.scenario === 'all' ? scenarioNames : parseScenarios(values.scenario);
  const sagaRate = values['saga-rate'] === undefined ? undefined : parseWhole('--saga-rate', values['saga-rate'], 1, 100_000);
  return {
    ...defaultBenchOptions,
    shape,
    durationSeconds,
    // A fifth of the measured time, at most the default: enough to fill pools and JIT-compile the hot paths.
    warmUpSeconds: Math.min(defaultBenchOptions.warmUpSeconds, Math.round((durationSeconds / 5) * 10) / 10),
    connections,
    scenarios,
    ...(sagaRate === undefined ? {} : { sagaRate }),
    resultsDir: nonEmpty('--results-dir', values['results-dir']) ?? defaultBenchOptions.resultsDir,
    docsFile: docsFileOf(values.docs),
    command: ['npm run bench', ...commandArguments(values)].join(' '),
  };
}

/** `20s`, `1.5m`, `500ms` or `20` (seconds), at least 0.1 s and at most an hour. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const value = Number(match?.[1]);
  if (match === null || !Number.isFinite(value)) {
    throw new BenchArgumentError(`--duration "${text}" is not a duration; write e.g. 20s, 1.5m or 500ms.`);
  }
  const seconds = match[2] === 'ms' ? value / 1000 : match[2] === 'm' ? value * 60 : value;
  if (seconds < 0.1 || seconds > 3600) throw new BenchArgumentError(`--duration ${text} is out of range: give between 100ms and 60m.`);
  return seconds;
}

function nonEmpty(option: string, text: string | undefined): string | undefined {
  if (text?.trim() === '') throw new BenchArgumentError(`${option} needs a path.`);
  return text?.trim();
}

/** The Markdown file to write; `--docs none` writes none. */
function docsFileOf(text: string | undefined): string | undefined {
  const file = nonEmpty('--docs', text) ?? defaultBenchOptions.docsFile;
  return file === 'none' ? undefined : file;
}

function parseWhole(option: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < min || value > max) throw new BenchArgumentError(`${option} "${text}" must be a whole number from ${min} to ${max}.`);
  return value;
}

function parseScenarios(text: string): ScenarioName[] {
  const names = text.split(',').map((name) => name.trim()).filter((name) => name !== '');
  const unknown = names.filter((name) => !(scenarioNames as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new BenchArgumentError(`Unknown scenario "${unknown.join(', ') || text}"; choose from ${scenarioNames.join(', ')} (comma-separated), or all.`);
  }
  return scenarioNames.filter((name) => names.includes(name));
}

function commandArguments(values: BenchArguments): string[] {
  // Only the bench's own options: the command line's parser also fills in other commands' defaults.
  const own = ['shape', 'duration', 'connections', 'scenario', 'saga-rate', 'results-dir', 'docs'] as const;
  const given = own.map((option) => [option, values[option]] as const).filter((entry): entry is readonly [typeof own[number], string] => entry[1] !== undefined);
  return given.length === 0 ? [] : ['--', ...given.map(([option, value]) => `--${option} ${value}`)];
}
