import type { CeilingName, ScenarioResult } from './bench-result.ts';
import { round } from './statistics.ts';

/**
 * Sets each scenario's ratios to the ceilings measured in the same run: catalog-read to
 * http-ceiling; import and export to PostgreSQL's COPY of the same rows (copy-in-, copy-out-ceiling); for the scenarios that complete orders (saga, place-order), what their orders ask of
 * the database per second (per-order figure × orders per second) to commit-ceiling and
 * statement-ceiling, and their orders per second to db-ceiling (the captured order's replay). Their
 * `ratio` is the larger physical share, the limit they are nearer to.
 */
export function compareWithCeilings(results: ScenarioResult[]): void {
  const ceiling = (name: CeilingName) => {
    const throughput = results.find((result) => result.name === name)?.throughput;
    return throughput !== undefined && throughput > 0 ? throughput : undefined;
  };
  // Three decimals: a share of a tenth of a percent still shows.
  const share = (value: number | null, limit: number | undefined) => (value === null || limit === undefined ? null : Math.round((value / limit) * 1000) / 1000);
  const catalog = results.find((result) => result.name === 'catalog-read');
  const httpLimit = ceiling('http-ceiling');
  if (catalog !== undefined && httpLimit !== undefined) catalog.ratio = { ceiling: 'http-ceiling', value: round(catalog.throughput / httpLimit) };
  for (const [name, copyCeiling] of [['import', 'copy-in-ceiling'], ['export', 'copy-out-ceiling']] as const) {
    const result = results.find((candidate) => candidate.name === name);
    const value = share(result?.throughput ?? null, ceiling(copyCeiling));
    if (result !== undefined && value !== null) result.ratio = { ceiling: copyCeiling, value };
  }

  for (const result of results) {
    const load = result.databaseLoad;
    if (load === null) continue;
    load.commitsPerSecond = load.commitsPerOrder === null ? null : round(load.commitsPerOrder * load.ordersPerSecond);
    load.statementsPerSecond = load.statementsPerOrder === null ? null : round(load.statementsPerOrder * load.ordersPerSecond);
    load.commitCeilingShare = share(load.commitsPerSecond, ceiling('commit-ceiling'));
    load.statementCeilingShare = share(load.statementsPerSecond, ceiling('statement-ceiling'));
    load.replayShare = share(load.ordersPerSecond, ceiling('db-ceiling'));
    const physical: { ceiling: CeilingName; value: number }[] = [];
    if (load.commitCeilingShare !== null) physical.push({ ceiling: 'commit-ceiling', value: load.commitCeilingShare });
    if (load.statementCeilingShare !== null) physical.push({ ceiling: 'statement-ceiling', value: load.statementCeilingShare });
    const nearest = physical.sort((left, right) => right.value - left.value)[0];
    // Without a physical ceiling, the replay is the only database figure there is.
    result.ratio = nearest ?? (load.replayShare === null ? null : { ceiling: 'db-ceiling', value: load.replayShare });
  }
  const place = results.find((result) => result.name === 'place-order');
  if (place?.databaseLoad?.replayShare !== undefined && place.databaseLoad.replayShare !== null) {
    place.details.endToEndRatioToDbCeiling = place.databaseLoad.replayShare;
  }
}
