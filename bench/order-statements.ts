import { benchSkuPattern } from './catalogue.ts';
import { transactionBoundary, type CapturedStatement, type CapturedUnit } from './statement-capture.ts';

/** Finds UUIDs in any text (global: use with `matchAll` or `replace`). */
export const uuidPattern = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** What one order's saga costs the database, counted from its captured statements. */
export interface OrderStatementCounts {
  /** Statements other than BEGIN and COMMIT. */
  statements: number;
  /** Commits: every transaction, and every statement run outside one. */
  commits: number;
  transactions: number;
  autocommitStatements: number;
  reads: number;
  writes: number;
  /** Statements per schema-qualified table they name first (`orders.orders`), most first. */
  byTable: Record<string, number>;
  /** Transactions of the order that rolled back: they cost work but committed nothing, so they are not replayed. */
  rolledBack: number;
}

/**
 * The units of an order's saga among everything captured while it ran: a unit belongs to the order
 * when its parameters or answers mention one of the order's tokens (its ids, its customer, its SKUs),
 * and every UUID such a unit mentions becomes a token too (message ids, payment and job ids, lease
 * tokens), until nothing new is found. Background polls that found nothing mention no token and fall away.
 */
export function selectOrderUnits(units: readonly CapturedUnit[], seeds: readonly string[]): CapturedUnit[] {
  const tokens = new Set(seeds.map((seed) => seed.toLowerCase()));
  const selected = new Set<CapturedUnit>();
  const tokensOf = new Map<CapturedUnit, Set<string>>(units.map((unit) => [unit, unitTokens(unit)]));
  for (let changed = true; changed;) {
    changed = false;
    for (const unit of units) {
      if (selected.has(unit)) continue;
      const found = tokensOf.get(unit) ?? new Set<string>();
      if (![...found].some((token) => tokens.has(token))) continue;
      selected.add(unit);
      changed = true;
      for (const token of found) tokens.add(token);
    }
  }
  return units.filter((unit) => selected.has(unit) && unit.outcome !== 'open');
}

/** Counts what the selected units of one order cost. */
export function countOrderStatements(units: readonly CapturedUnit[]): OrderStatementCounts {
  const counts: OrderStatementCounts = { statements: 0, commits: 0, transactions: 0, autocommitStatements: 0, reads: 0, writes: 0, byTable: {}, rolledBack: 0 };
  const byTable = new Map<string, number>();
  for (const unit of units) {
    if (unit.outcome === 'rollback') {
      counts.rolledBack += 1;
      continue;
    }
    counts.commits += 1;
    if (unit.transaction) counts.transactions += 1;
    else counts.autocommitStatements += 1;
    for (const statement of unit.statements) {
      if (transactionBoundary(statement.text) !== undefined) continue;
      counts.statements += 1;
      if (isWrite(statement)) counts.writes += 1;
      else counts.reads += 1;
      const table = firstTable(statement.text);
      byTable.set(table, (byTable.get(table) ?? 0) + 1);
    }
  }
  counts.byTable = Object.fromEntries([...byTable].sort((left, right) => right[1] - left[1] || left[0].localeCompare(right[0])));
  return counts;
}

/** True for statements that change rows (a data-modifying CTE counts by its outer command). */
export function isWrite(statement: CapturedStatement): boolean {
  if (statement.command !== null) return ['INSERT', 'UPDATE', 'DELETE', 'MERGE'].includes(statement.command);
  return /^\s*(insert|update|delete|merge)\b/i.test(statement.text);
}

/** The first schema-qualified table a statement names (`pgboss.job`), else the function it calls (`pg_notify`), else `other`. */
export function firstTable(text: string): string {
  const match = /\b(?:from|into|update|join)\s+"?([a-z_][a-z0-9_]*)"?\s*\.\s*"?([a-z_][a-z0-9_]*)"?/i.exec(text);
  if (match?.[1] !== undefined && match[2] !== undefined) return `${match[1].toLowerCase()}.${match[2].toLowerCase()}`;
  const call = /^\s*select\s+([a-z_][a-z0-9_]*)\s*\(/i.exec(text);
  return call?.[1] === undefined ? 'other' : `${call[1].toLowerCase()}()`;
}

/** The tokens (UUIDs and benchmark SKUs, lower-cased) found in `text`. */
export function tokensIn(text: string): string[] {
  return [...text.matchAll(uuidPattern), ...text.matchAll(benchSkuPattern)].map((match) => match[0].toLowerCase());
}

/** The UUIDs and SKUs a unit's statements mention, in their text, parameters and answers. */
function unitTokens(unit: CapturedUnit): Set<string> {
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const token of tokensIn(value)) found.add(token);
    } else if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (isPlainObject(value)) {
      for (const item of Object.values(value)) visit(item);
    }
  };
  for (const statement of unit.statements) {
    visit(statement.values);
    visit(statement.rows);
  }
  return found;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

