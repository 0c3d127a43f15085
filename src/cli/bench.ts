import type * as BenchArgumentsModule from '../apps/bench/bench-arguments.ts';
import type * as BenchModule from '../apps/bench/bench.ts';
import type * as ReportModule from '../apps/bench/report.ts';
import { UsageError } from './usage.ts';

/**
 * The benchmark harness (src/apps/bench), loaded on demand by the entry, src/cli.ts: `bench` runs
 * from a checkout with dev dependencies, and the production image leaves the harness out.
 */
export interface BenchHarness {
  loadArguments(): Promise<Pick<typeof BenchArgumentsModule, 'BenchArgumentError' | 'parseBenchArguments'>>;
  loadRunner(): Promise<Pick<typeof BenchModule, 'runBench'> & Pick<typeof ReportModule, 'renderText'>>;
}

/** `orderstream bench`: runs the harness and prints its table; a run with errors exits 1. */
export async function bench(harness: BenchHarness, values: BenchArgumentsModule.BenchArguments): Promise<void> {
  const { BenchArgumentError, parseBenchArguments } = await harness.loadArguments();
  let options;
  try {
    options = parseBenchArguments(values);
  } catch (error) {
    if (error instanceof BenchArgumentError) throw new UsageError(error.message);
    throw error;
  }
  const { runBench, renderText } = await harness.loadRunner();
  const run = await runBench({ ...options, log: (line) => { console.error(`bench: ${line}`); } });
  console.log(renderText(run.report));
  console.log(`\nResults: ${run.resultsFile}${run.docsFile === undefined ? '' : `; table in ${run.docsFile}`}`);
  if (!run.report.ok) process.exitCode = 1;
}
