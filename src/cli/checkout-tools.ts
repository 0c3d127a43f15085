import type * as BenchArgumentsModule from '../../bench/bench-arguments.ts';
import type * as BenchModule from '../../bench/bench.ts';
import type * as ReportModule from '../../bench/report.ts';
import type * as SeedModule from '../../tools/seed.ts';
import type * as BlueprintModule from '../../tools/blueprint/blueprint.ts';
import type * as ServicesAdminModule from '../../tools/services-admin.ts';
import type * as ServicesRunnerModule from '../../tools/services-runner.ts';
import { UsageError } from './usage.ts';

/**
 * The one door from the command line to what runs only from a checkout: the local services shape,
 * the demo data and the blueprint (tools/), the benchmark harness (bench/). They are loaded on demand, so every
 * other command works where they are absent — the production image leaves them out (Dockerfile,
 * .dockerignore; deploy/deploy-artifacts.test.ts checks it).
 */

/** A checkout-only piece this installation does not have: said plainly (exit code 2), not as a stack trace. */
export class CheckoutOnlyError extends UsageError {}

function isAbsentHere(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

async function load<T>(what: string, loader: () => Promise<T>): Promise<T> {
  try {
    return await loader();
  } catch (error) {
    if (!isAbsentHere(error)) throw error;
    throw new CheckoutOnlyError(
      `${what} runs from a checkout of OrderStream with its dev dependencies (npm ci); this installation leaves tools/ and bench/ out (${(error as Error).message}).`,
    );
  }
}

export function loadServicesRunner(): Promise<typeof ServicesRunnerModule> {
  return load('`orderstream services`', () => import('../../tools/services-runner.ts'));
}

export function loadServicesAdmin(): Promise<typeof ServicesAdminModule> {
  return load('An admin command on the services shape of this machine', () => import('../../tools/services-admin.ts'));
}

export function loadSeed(): Promise<typeof SeedModule> {
  return load('`orderstream seed`', () => import('../../tools/seed.ts'));
}

export function loadBlueprint(): Promise<typeof BlueprintModule> {
  return load('`orderstream blueprint`', () => import('../../tools/blueprint/blueprint.ts'));
}

export function loadBenchArguments(): Promise<Pick<typeof BenchArgumentsModule, 'BenchArgumentError' | 'parseBenchArguments'>> {
  return load('`orderstream bench`', () => import('../../bench/bench-arguments.ts'));
}

export async function loadBenchRunner(): Promise<Pick<typeof BenchModule, 'runBench'> & Pick<typeof ReportModule, 'renderText'>> {
  const [{ runBench }, { renderText }] = await load('`orderstream bench`', () => Promise.all([import('../../bench/bench.ts'), import('../../bench/report.ts')]));
  return { runBench, renderText };
}
