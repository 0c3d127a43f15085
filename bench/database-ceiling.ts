/**
 * The database ceilings' measurements: one order's committed statements turned into a plan and
 * replayed with fresh ids (the db-ceiling), and the physical ceilings (durable commits, single-row
 * statements per second).
 */
export { planReplay, type ReplayPlan, type ReplayStatement } from './replay-plan.ts';
export { ReplayInstance } from './replay-instance.ts';
export { replayOrders, type ReplayResult } from './replay-orders.ts';
export { measurePrimitiveCeiling, type PrimitiveCeilingResult, type PrimitiveOperation } from './primitive-ceiling.ts';
