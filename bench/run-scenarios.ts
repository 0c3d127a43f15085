import type { BenchOptions } from './bench-options.ts';
import type { BenchReport, ScenarioResult } from './bench-result.ts';
import { observerApplication } from './bench-environment.ts';
import { measureInvoiceDownloads } from './invoice-downloads.ts';
import { probeOf } from './orderstream-probe.ts';
import {
  captureOneOrder, catalogRead, consoleReadsScenario, databaseCeiling, exportScenario, findSagaRate, httpCeiling, importScenario, loginStorm, mixed, overload, placeOrder,
  primitiveCeiling, saga,
  type CapturedOrder, type ScenarioContext,
} from './scenarios.ts';

/** What a run's scenarios, invoice downloads and ceilings measured, and which ceilings it asked for. */
export interface ScenarioRun {
  results: ScenarioResult[];
  captured: CapturedOrder | undefined;
  invoices: BenchReport['invoices'];
  invoiceProblem: string | undefined;
  /** A scenario completes orders: the physical ceilings are measured to compare them with. */
  completesOrders: boolean;
  measuresDatabaseCeiling: boolean;
}

/**
 * The saga scenario's default pace: half the end-to-end rate place-order measured, a steady state
 * the sagas keep up with (that rate is reached while the drain has nothing else to do; paced by it,
 * the backlog and the latency would only grow), and the "half of peak" the POST latency target names.
 */
function sagaRateFrom(placed: ScenarioResult | undefined): number {
  return Math.max(1, Number(placed?.details.endToEndOrdersPerSecond ?? 0) / 2);
}

/**
 * Runs the chosen scenarios on a started target, in the order the report needs them: in the single
 * shape one order's statements captured first (then every statement counted), inside OrderStream's
 * process; the scenarios (the export and the import each followed by its COPY ceiling), the invoice
 * downloads, then, with OrderStream stopped, the database ceilings. The caller stops the load
 * generator, the statement counter and the target, whatever happens.
 */
export async function runScenarios(context: ScenarioContext, options: BenchOptions, warnings: string[]): Promise<ScenarioRun> {
  const { target, log } = context;
  const wanted = new Set(options.scenarios);
  const results: ScenarioResult[] = [];
  let captured: CapturedOrder | undefined;
  const completesOrders = wanted.has('saga') || wanted.has('place-order') || wanted.has('overload');
  const measuresDatabaseCeiling = target.shape === 'single' && completesOrders;
  if (target.shape === 'single') {
    log('capturing the statements of one order\'s saga');
    captured = await captureOneOrder(context);
    log(`one order: ${captured.counts.statements} statements in ${captured.counts.commits} commits`);
    // Started after the capture has put `pg` back as it was: each wraps the client's query in turn.
    context.statements = await probeOf(target).startCounting(observerApplication);
  } else {
    log('the services shape has no db-ceiling and counts no statements: an order there spans several processes, and the statement capture sees inside one');
  }
  if (wanted.has('catalog-read')) {
    results.push(await httpCeiling(context));
    results.push(await catalogRead(context));
  }
  if (wanted.has('login-storm')) results.push(await loginStorm(context));
  let placed: ScenarioResult | undefined;
  if (wanted.has('place-order')) {
    placed = await placeOrder(context);
    results.push(placed);
  }
  if (wanted.has('saga') || wanted.has('overload')) {
    if (options.sagaRate === undefined && placed === undefined) {
      log('saga: measuring the rate to start the search from (a short place-order run)');
      placed = await placeOrder({ ...context, durationSeconds: Math.min(5, context.durationSeconds), warmUpSeconds: 0 }, 'saga calibration');
      if (placed.errors.total > 0) warnings.push(`the saga's calibration run had ${placed.errors.total} errors`);
    }
    // The saga runs at the rate it keeps (searched unless given); the overload offers twice that.
    const search = options.sagaRate === undefined ? await findSagaRate(context, sagaRateFrom(placed)) : undefined;
    const sagaResult = await saga(context, search?.rate ?? options.sagaRate ?? 1, search?.probes);
    if (wanted.has('saga')) results.push(sagaResult);
    if (wanted.has('overload')) results.push(await overload(context, Number(sagaResult.details.offeredOrdersPerSecond), sagaResult.throughput));
  }
  if (wanted.has('mixed')) results.push(await mixed(context));
  // After the scenarios that place orders: the 100,000 orders it writes would stand in their way.
  if (wanted.has('console')) results.push(await consoleReadsScenario(context));
  // The export reads the console's orders (filling them when the console did not run); the import's 100,000 products come after every scenario that reads the catalogue.
  if (wanted.has('export')) results.push(...await exportScenario(context));
  if (wanted.has('import')) results.push(...await importScenario(context));
  // Messages still in flight would fail against the stopping application and be logged as retries;
  // delivered, they have recorded the invoice of every confirmed order.
  await target.observer.settle(options.drainTimeoutSeconds * 1000, { jobs: false });
  const { invoices, problem: invoiceProblem } = await measureInvoiceDownloads(context);
  await context.statements?.stop();
  log(completesOrders ? 'stopping OrderStream for the database ceilings' : 'stopping OrderStream');
  await target.closeApp();
  if (completesOrders) {
    results.push(await primitiveCeiling(context, 'commit'));
    results.push(await primitiveCeiling(context, 'statement'));
  }
  if (measuresDatabaseCeiling && captured !== undefined) results.push(await databaseCeiling(context, captured));
  return { results, captured, invoices, invoiceProblem, completesOrders, measuresDatabaseCeiling };
}
