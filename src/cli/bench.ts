import type * as BenchArgumentsModule from '../../bench/bench-arguments.ts';
import { loadBenchArguments, loadBenchRunner } from './checkout-tools.ts';
import { UsageError } from './usage.ts';

/** `orderstream bench`: runs the harness and prints its table; a run with errors exits 1. */
export async function bench(values: BenchArgumentsModule.BenchArguments): Promise<void> {
  const { BenchArgumentError, parseBenchArguments } = await loadBenchArguments();
  let options;
  try {
    options = parseBenchArguments(values);
  } catch (error) {
    if (error instanceof BenchArgumentError) throw new UsageError(error.message);
    throw error;
  }
  const { runBench, renderText } = await loadBenchRunner();
  const run = await runBench({ ...options, log: (line) => { console.error(`bench: ${line}`); } });
  console.log(renderText(run.report));
  console.log(`\nResults: ${run.resultsFile}${run.docsFile === undefined ? '' : `; table in ${run.docsFile}`}`);
  if (!run.report.ok) process.exitCode = 1;
}
