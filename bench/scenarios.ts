/**
 * The benchmark's scenarios, one door for the harness: the HTTP ones (catalogue reads, their bare
 * HTTP ceiling, the login storm), the order ones (place-order, saga, overload, mixed), the operations
 * console's reads with 100,000 orders, the export of those orders and a 100,000-row catalogue import
 * (each with PostgreSQL's COPY of the same rows as its ceiling), and the database ceilings (the captured order's replay, durable commits, single-row statements).
 */
export type { ScenarioContext } from './scenario-context.ts';
export { catalogRead, httpCeiling, loginStorm } from './http-scenarios.ts';
export { findSagaRate, mixed, overload, placeOrder, saga, type RateProbe } from './order-scenarios.ts';
export { consoleReadsScenario } from './console-scenario.ts';
export { exportScenario } from './export-scenario.ts';
export { importScenario } from './import-scenario.ts';
export { captureOneOrder, databaseCeiling, primitiveCeiling, type CapturedOrder } from './ceiling-scenarios.ts';
