// The `orderstream` command: bin/orderstream.js, the image's ENTRYPOINT and the tests run this file.
// Each command is a file in src/cli/; src/cli/main.ts parses the command line and dispatches.
import { runCommandLine } from './cli/main.ts';

void runCommandLine(process.argv.slice(2), {
  // Only this entry names the benchmark harness: `orderstream bench` runs from a checkout, with dev
  // dependencies, and the production image leaves src/apps/bench/ out.
  benchHarness: {
    loadArguments: () => import('./apps/bench/bench-arguments.ts'),
    loadRunner: async () => {
      const [{ runBench }, { renderText }] = await Promise.all([import('./apps/bench/bench.ts'), import('./apps/bench/report.ts')]);
      return { runBench, renderText };
    },
  },
});
