/**
 * The catalog module's only public door: its factory, its migrations and its contract.
 * Other modules and the composition roots import from here and nowhere else in the module.
 */
import type { Database } from '../../platform/database/database.ts';
import type { MigrationSet } from '../../platform/database/migrations.ts';
import type { RouteRegistration } from '../../platform/http/app.ts';
import { CreateProduct } from './application/create-product.ts';
import { FindProductsBySku } from './application/find-products-by-sku.ts';
import { GetProduct } from './application/get-product.ts';
import { ListProducts } from './application/list-products.ts';
import type { ProductRepository } from './application/ports.ts';
import { UpdateProduct } from './application/update-product.ts';
import { UpsertProduct } from './application/upsert-product.ts';
import { catalogRoutes } from './adapters/http/catalog-routes.ts';
import { PgProductRepository } from './adapters/postgres/pg-product-repository.ts';
import type { CatalogClient, CatalogImportClient } from './contract.ts';

export * from './contract.ts';

export const catalogMigrations: MigrationSet = {
  module: 'catalog',
  schema: 'catalog',
  directory: new URL('./adapters/postgres/migrations/', import.meta.url),
};

export interface CatalogModule {
  routes: RouteRegistration;
  /** In-process adapter of the catalog's clients (reads and bulk writes), for modules in the same process. */
  client: CatalogClient & CatalogImportClient;
}

/** Wires the catalog's use cases to PostgreSQL (or to the repository a test passes). */
export function createCatalogModule(deps: { db: Database } | { products: ProductRepository }): CatalogModule {
  const products = 'products' in deps ? deps.products : new PgProductRepository(deps.db);
  const findProductsBySku = new FindProductsBySku({ products });
  const upsertProduct = new UpsertProduct({ products });
  return {
    routes: catalogRoutes({
      createProduct: new CreateProduct({ products }),
      updateProduct: new UpdateProduct({ products }),
      getProduct: new GetProduct({ products }),
      listProducts: new ListProducts({ products }),
    }),
    client: {
      findProductsBySku: (skus) => findProductsBySku.execute(skus),
      upsertProduct: (product) => upsertProduct.execute(product),
    },
  };
}
