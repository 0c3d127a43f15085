import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import { recordAdminAct } from '../../../../platform/audit/index.ts';
import { appendToOutbox, createEnvelope } from '../../../../platform/messaging/index.ts';
import type { AdminAct, ProductPage, ProductQuery, ProductRepository, ProductView } from '../../application/ports.ts';
import { catalogEvents, type ProductChangedV1 } from '../../contract.ts';
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
export class PgProductRepository implements ProductRepository {
  readonly #db: Kysely<CatalogTables>;

  constructor(db: Database) {
    this.#db = db.$extendTables<CatalogTables>();
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

  #selectViews() {
    return this.#db.selectFrom('catalog.products as product')
      .leftJoin('catalog.reported_stock as stock', 'stock.sku', 'product.sku')
      .selectAll('product')
      .select(['stock.available', 'stock.stock_version']);
  }
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

