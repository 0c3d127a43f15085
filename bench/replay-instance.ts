import { randomUUID } from 'node:crypto';
import { benchSkuPattern } from './catalogue.ts';
import { uuidPattern } from './order-statements.ts';
import type { ReplayPlan, ReplayStatement, Template } from './replay-plan.ts';

/**
 * One replay of a plan: builds each statement's text and parameters with this replay's fresh ids and
 * SKUs, from the answers the replay has had so far (which it must be told of, in order).
 */
export class ReplayInstance {
  readonly #skus: readonly string[];
  readonly #ids = new Map<string, string>();
  readonly #usedSkus = new Set<string>();
  readonly #shiftMs: number;
  readonly #answers: Record<string, unknown>[][][] = [];

  constructor(plan: ReplayPlan, skus: readonly string[], now: number = Date.now()) {
    this.#skus = skus;
    this.#shiftMs = now - plan.capturedAtMs;
  }

  /** The text and parameters to send for `statement`. */
  build(statement: ReplayStatement): { text: string; values: unknown[] } {
    return { text: this.#value(statement.text) as string, values: statement.values.map((value) => this.#value(value)) };
  }

  /** Records the rows statement `statementIndex` of unit `unitIndex` answered. */
  answer(unitIndex: number, statementIndex: number, rows: Record<string, unknown>[]): void {
    (this.#answers[unitIndex] ??= [])[statementIndex] = rows;
  }

  #value(template: Template): unknown {
    switch (template.kind) {
      case 'static': return template.value;
      case 'text': return this.#rewrite(template.value);
      case 'date': return new Date(template.epochMs + this.#shiftMs);
      case 'result': {
        const answered = this.#answers[template.unit]?.[template.statement]?.[template.row]?.[template.column];
        return answered ?? this.#value(template.fallback);
      }
      case 'column': {
        const rows = this.#answers[template.unit]?.[template.statement];
        return rows === undefined || rows.length === 0 ? this.#value(template.fallback) : rows.map((row) => row[template.column]);
      }
      case 'array': return template.items.map((item) => this.#value(item));
      case 'object': return Object.fromEntries(template.entries.map(([key, item]) => [key, this.#value(item)]));
    }
  }

  #rewrite(text: string): string {
    return text
      .replace(uuidPattern, (uuid) => {
        const key = uuid.toLowerCase();
        let fresh = this.#ids.get(key);
        if (fresh === undefined) {
          fresh = randomUUID();
          this.#ids.set(key, fresh);
        }
        return fresh;
      })
      .replace(benchSkuPattern, (sku) => {
        let drawn = this.#ids.get(sku);
        if (drawn === undefined) {
          drawn = drawSku(this.#skus, this.#usedSkus);
          this.#ids.set(sku, drawn);
        }
        return drawn;
      });
  }
}

function drawSku(skus: readonly string[], used: Set<string>): string {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const sku = skus[Math.floor(Math.random() * skus.length)];
    if (sku !== undefined && !used.has(sku)) {
      used.add(sku);
      return sku;
    }
  }
  return skus[0] ?? 'UNKNOWN';
}
