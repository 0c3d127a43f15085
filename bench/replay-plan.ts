import { benchSkuPattern } from './catalogue.ts';
import { isPlainObject, uuidPattern } from './order-statements.ts';
import type { CapturedUnit } from './statement-capture.ts';

/** How a parameter is rebuilt for each replay. */
export type Template =
  | { kind: 'static'; value: unknown }
  | { kind: 'text'; value: string }
  | { kind: 'date'; epochMs: number }
  | { kind: 'result'; unit: number; statement: number; row: number; column: string; fallback: Template }
  /** Every row's `column` of an earlier answer (an array of all the positions a select found, say). */
  | { kind: 'column'; unit: number; statement: number; column: string; fallback: Template }
  | { kind: 'array'; items: Template[] }
  | { kind: 'object'; entries: [string, Template][] };

/** One statement of a replay plan. */
export interface ReplayStatement {
  text: Template;
  /** The captured text, shortened, to name the statement in the report. */
  label: string;
  values: Template[];
  /** Rows the statement changed when captured, for writes; compared with each replay's. */
  capturedRowCount: number | null;
  /**
   * A `pg_try_advisory_xact_lock` the capture won. When a replay loses it, the rest of the unit is
   * skipped and the transaction committed, as the code that took it does (the outbox relay: one at a time).
   */
  tryLock: boolean;
  /**
   * One of the outbox relay's reads or marks. One relay leads a database and sends them one at a time,
   * so a replay's relay statements wait for every other replay's: sixteen relays marking each other's
   * rows at once are not what the design asks of the database (and deadlock).
   */
  relay: boolean;
}

/** The outbox relay's statements: reading unsent rows and marking rows sent. */
const relayStatement = /messaging\.outbox where sent_at is null|update messaging\.outbox set sent_at/i;

/** One order's committed statements, ready to be replayed with fresh ids. */
export interface ReplayPlan {
  units: ReplayStatement[][];
  capturedAtMs: number;
  statements: number;
}

const idColumn = /(^id$|_id$|^position$|Id$)/;

/**
 * Turns an order's captured units into a replay plan. Every UUID in a text, parameter or JSON document
 * becomes a fresh one per replay (consistently: the same old id gives the same new id within a replay),
 * SKUs are re-drawn from the catalogue, timestamps move to the replay's time, and a value that the
 * database produced in an earlier answer (an identity, a generated lease token, an outbox position) is
 * taken from that same answer in the replay — all of that answer's rows when the capture sent all of
 * them (the outbox relay marks sent every position it read, however many a replay reads).
 */
export function planReplay(units: readonly CapturedUnit[], capturedAtMs: number): ReplayPlan {
  // Where each value was first seen: in an answer (then a replay takes it from the same answer), or sent by the application ('sent').
  const origins = new Map<string, { unit: number; statement: number; row: number; column: string } | 'sent'>();
  const answerSizes = new Map<string, number>();
  const plan: ReplayStatement[][] = [];
  let statements = 0;
  units.filter((unit) => unit.outcome === 'commit').forEach((unit, unitIndex) => {
    const compiled: ReplayStatement[] = [];
    unit.statements.forEach((statement, statementIndex) => {
      const compile = (value: unknown): Template => {
        if (typeof value === 'string' || typeof value === 'number') {
          const key = originKey(value);
          const origin = origins.get(key);
          const plain: Template = typeof value === 'string' && hasTokens(value) ? { kind: 'text', value } : { kind: 'static', value };
          if (origin === undefined) origins.set(key, 'sent');
          return origin === undefined || origin === 'sent' ? plain : { kind: 'result', ...origin, fallback: plain };
        }
        if (value instanceof Date) return { kind: 'date', epochMs: value.getTime() };
        if (Array.isArray(value)) {
          const array: Template = { kind: 'array', items: value.map(compile) };
          return wholeColumn(array, answerSizes) ?? array;
        }
        if (isPlainObject(value)) return { kind: 'object', entries: Object.entries(value).map(([key, item]) => [key, compile(item)]) };
        return { kind: 'static', value };
      };
      answerSizes.set(`${unitIndex}:${statementIndex}`, statement.rows.length);
      compiled.push({
        label: statement.text.replace(/\s+/g, ' ').trim().slice(0, 120),
        text: hasTokens(statement.text) ? { kind: 'text', value: statement.text } : { kind: 'static', value: statement.text },
        values: statement.values.map(compile),
        capturedRowCount: ['INSERT', 'UPDATE', 'DELETE'].includes(statement.command ?? '') ? statement.rowCount : null,
        tryLock: /pg_try_advisory_xact_lock/i.test(statement.text) && firstValue(statement.rows) === true,
        relay: relayStatement.test(statement.text),
      });
      if (!/^\s*(begin|commit)\b/i.test(statement.text)) statements += 1;
      statement.rows.forEach((row, rowIndex) => {
        for (const [column, value] of Object.entries(row)) {
          const tracked = (typeof value === 'string' && hasUuid(value)) || (typeof value === 'number' && idColumn.test(column));
          if (!tracked) continue;
          const key = originKey(value);
          if (!origins.has(key)) origins.set(key, { unit: unitIndex, statement: statementIndex, row: rowIndex, column });
        }
      });
    });
    plan.push(compiled);
  });
  return { units: plan, capturedAtMs, statements };
}

/** `array` as a `column` template when it holds one column of every row of one earlier answer, in order. */
function wholeColumn(array: Extract<Template, { kind: 'array' }>, answerSizes: ReadonlyMap<string, number>): Template | undefined {
  const [first] = array.items;
  if (first?.kind !== 'result') return undefined;
  const sameAnswer = array.items.every((item, index) => item.kind === 'result' && item.unit === first.unit && item.statement === first.statement
    && item.column === first.column && item.row === index);
  if (!sameAnswer || answerSizes.get(`${first.unit}:${first.statement}`) !== array.items.length) return undefined;
  return { kind: 'column', unit: first.unit, statement: first.statement, column: first.column, fallback: array };
}

/** The first column of an answer's first row. */
export function firstValue(rows: readonly Record<string, unknown>[]): unknown {
  const [row] = rows;
  return row === undefined ? undefined : Object.values(row)[0];
}

function hasUuid(text: string): boolean {
  uuidPattern.lastIndex = 0;
  return uuidPattern.test(text);
}

function hasTokens(text: string): boolean {
  benchSkuPattern.lastIndex = 0;
  return hasUuid(text) || benchSkuPattern.test(text);
}

function originKey(value: string | number): string {
  return `${typeof value}:${String(value)}`;
}
