import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { inSharedTransaction } from '../../../../platform/database/shared-transaction.ts';
import { recordAdminAct } from '../../../../platform/audit/index.ts';
import { appendToOutbox, createEnvelope } from '../../../../platform/messaging/index.ts';
import type {
  AdminAct, ProductBatchRepository, ProductPage, ProductQuery, ProductRepository, ProductView, SettledBatch, WrittenProduct,
} from '../../application/ports.ts';
import { catalogEvents, type ProductChangedV1, type ProductUpsertOutcomeV1 } from '../../contract.ts';
import type { ReportedStock } from '../../domain/availability.ts';
import { DuplicateSkuError, ProductModifiedConcurrentlyError } from '../../domain/product.errors.ts';
import type { Product } from '../../domain/product.ts';
import type { CatalogTables, ProductsTable, ReportedStockTable } from './catalog-tables.ts';

/** A product row with its reported stock's columns, null when inventory reported none. */
type ProductRow = Selectable<ProductsTable> & { [Column in 'available' | 'stock_version']: ReportedStockTable[Column] | null };

/**
 * Products in PostgreSQL; each write and its outbox message commit in one transaction. Reads join
 * each product's reported stock in the same statement.
 */
export class PgProductRepository implements ProductRepository, ProductBatchRepository {
  readonly #db: Kysely<CatalogTables>;
  /** The handle as given, by which a caller's shared transaction on the same database is recognised. */
  readonly #given: Database;

  constructor(db: Database) {
    this.#db = db.$extendTables<CatalogTables>();
    this.#given = db;
  }

  async findById(id: string): Promise<ProductView | undefined> {
    const row = await this.#selectViews().where('product.id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toView(row);
  }

  async findBySkus(skus: readonly string[]): Promise<ProductView[]> {
    if (skus.length === 0) return [];
    const rows = await this.#selectViews().where('product.sku', 'in', [...skus]).execute();
    return rows.map(toView);
  }

  async list(query: ProductQuery): Promise<ProductPage> {
    let select = this.#selectViews();
    if (query.text !== undefined) {
      const pattern = `%${query.text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
      select = select.where((eb) => eb.or([eb('product.sku', 'ilike', pattern), eb('product.name', 'ilike', pattern), eb('product.description', 'ilike', pattern)]));
    }
    if (query.minPriceAmount !== undefined) select = select.where('product.price_amount', '>=', query.minPriceAmount);
    if (query.maxPriceAmount !== undefined) select = select.where('product.price_amount', '<=', query.maxPriceAmount);
    if (query.currency !== undefined) select = select.where('product.price_currency', '=', query.currency);
    const after = query.after;
    if (after !== undefined) {
      select = select.where((eb) => eb(eb.refTuple('product.created_at', 'product.id'), '>', eb.tuple(after.createdAt, after.id)));
    }
    const rows = await select.orderBy('product.created_at').orderBy('product.id').limit(query.limit + 1).execute();
    const items = rows.slice(0, query.limit).map(toView);
    const last = items.at(-1)?.product;
    return { items, next: rows.length > query.limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null };
  }

  async add(product: Product, event: ProductChangedV1, act?: AdminAct): Promise<ReportedStock | undefined> {
    try {
      return await this.#db.transaction().execute(async (transaction) => {
        // The insert and the read of the SKU's stock in one statement.
        const stock = await transaction
          .with('added', (db) => db.insertInto('catalog.products').values(toRow(product)).returning('sku'))
          .selectFrom('added')
          .innerJoin('catalog.reported_stock as stock', 'stock.sku', 'added.sku')
          .select(['stock.sku', 'stock.available', 'stock.stock_version'])
          .executeTakeFirst();
        await appendToOutbox(transaction, [envelopeOf(event)]);
        if (act !== undefined) await recordAdminAct(transaction, 'catalog', act);
        return stock === undefined ? undefined : { sku: stock.sku, available: stock.available, stockVersion: stock.stock_version };
      });
    } catch (error) {
      if (isUniqueViolation(error, 'products_sku_key')) throw new DuplicateSkuError(product.sku);
      throw error;
    }
  }

  async update(product: Product, event: ProductChangedV1, act?: AdminAct): Promise<void> {
    await this.#db.transaction().execute(async (transaction) => {
      const result = await transaction.updateTable('catalog.products')
        .set({
          name: product.name, description: product.description,
          price_amount: product.price.amount, price_currency: product.price.currency,
          updated_at: product.updatedAt, version: product.version,
        })
        .where('id', '=', product.id)
        .where('version', '=', product.version - 1)
        .executeTakeFirst();
      if (result.numUpdatedRows === 0n) throw new ProductModifiedConcurrentlyError(product.id);
      await appendToOutbox(transaction, [envelopeOf(event)]);
      if (act !== undefined) await recordAdminAct(transaction, 'catalog', act);
    });
  }

  async upsertBatch(key: string, products: readonly Product[], settle: (written: readonly WrittenProduct[]) => SettledBatch):
    Promise<{ outcomes: ProductUpsertOutcomeV1[]; written: readonly WrittenProduct[] }> {
    return inSharedTransaction(this.#given, async (transaction) => {
      // The key is claimed first: a concurrent repeat waits here for this one to commit, then answers its outcomes.
      const claimed = await sql`insert into catalog.applied_batches (key) values (${key}) on conflict (key) do nothing returning key`.execute(transaction);
      if (claimed.rows.length === 0) {
        const recorded = await sql<{ outcomes: ProductUpsertOutcomeV1[] | null }>`select outcomes from catalog.applied_batches where key = ${key}`.execute(transaction);
        return { outcomes: recorded.rows[0]?.outcomes ?? [], written: [] };
      }
      const written = await writeAll(transaction, products);
      const settled = settle(written);
      if (settled.event !== undefined) {
        await appendToOutbox(transaction, [createEnvelope({ ...catalogEvents.productsChanged, key: `batch:${key}`, payload: settled.event })]);
      }
      await sql`update catalog.applied_batches set outcomes = ${JSON.stringify(settled.outcomes)}::jsonb where key = ${key}`.execute(transaction);
      return { outcomes: settled.outcomes, written };
    });
  }

  #selectViews() {
    return this.#db.selectFrom('catalog.products as product')
      .leftJoin('catalog.reported_stock as stock', 'stock.sku', 'product.sku')
      .selectAll('product')
      .select(['stock.available', 'stock.stock_version']);
  }
}

/**
 * One statement for the whole batch: new SKUs are inserted, existing ones changed to the batch's
 * values unless they already have them (those are not written, so not announced). Rows are written,
 * so locked, in SKU order: two batches over the same SKUs never wait on each other in a cycle.
 */
async function writeAll(transaction: Transaction<object>, products: readonly Product[]): Promise<WrittenProduct[]> {
  if (products.length === 0) return [];
  const sorted = [...products].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
  const column = <T>(value: (product: Product) => T) => sorted.map(value);
  const result = await sql<Pick<ProductsTable, 'id' | 'sku' | 'version'> & { inserted: boolean }>`
    insert into catalog.products as p (id, sku, name, description, price_amount, price_currency, created_at, updated_at, version)
    select id, sku, name, description, price_amount, price_currency, at, at, 1
    from unnest(
      ${column((product) => product.id)}::text[], ${column((product) => product.sku)}::text[], ${column((product) => product.name)}::text[],
      ${column((product) => product.description)}::text[], ${column((product) => product.price.amount)}::bigint[],
      ${column((product) => product.price.currency)}::text[], ${column((product) => product.createdAt)}::timestamptz[]
    ) as input (id, sku, name, description, price_amount, price_currency, at)
    on conflict (sku) do update set
      name = excluded.name, description = excluded.description, price_amount = excluded.price_amount,
      price_currency = excluded.price_currency, updated_at = excluded.updated_at, version = p.version + 1
      where (p.name, p.description, p.price_amount, p.price_currency)
        is distinct from (excluded.name, excluded.description, excluded.price_amount, excluded.price_currency)
    returning p.id, p.sku, p.version, (p.xmax = 0) as inserted`.execute(transaction);
  return result.rows.map((row) => ({ id: row.id, sku: row.sku, version: row.version, change: row.inserted ? 'created' : 'updated' }));
}

function envelopeOf(event: ProductChangedV1) {
  return createEnvelope({ ...catalogEvents.productChanged, key: event.productId, payload: event });
}

function toRow(product: Product): ProductsTable {
  return {
    id: product.id, sku: product.sku, name: product.name, description: product.description,
    price_amount: product.price.amount, price_currency: product.price.currency,
    created_at: product.createdAt, updated_at: product.updatedAt, version: product.version,
  };
}

function toView(row: ProductRow): ProductView {
  return {
    product: {
      id: row.id, sku: row.sku, name: row.name, description: row.description,
      price: { amount: row.price_amount, currency: row.price_currency },
      createdAt: row.created_at, updatedAt: row.updated_at, version: row.version,
    },
    stock: row.available === null || row.stock_version === null ? undefined : { sku: row.sku, available: row.available, stockVersion: row.stock_version },
  };
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const candidate = error as { code?: unknown; constraint?: unknown };
  return candidate.code === '23505' && candidate.constraint === constraint;
}

