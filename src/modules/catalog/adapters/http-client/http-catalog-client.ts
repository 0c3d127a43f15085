import type { ServiceCaller } from '../../../../platform/http/service-caller.ts';
import type {
  CatalogClient, CatalogImportClient, ProductSnapshot, ProductUpsertBatchV1, ProductUpsertOutcomeV1, ProductUpsertV1,
} from '../../contract.ts';
import { catalogInternalPaths } from '../http/catalog-internal-routes.ts';

/** The catalog's clients over HTTP, for modules running in another service than the catalog. */
export class HttpCatalogClient implements CatalogClient, CatalogImportClient {
  readonly #catalog: ServiceCaller;

  constructor(catalog: ServiceCaller) {
    this.#catalog = catalog;
  }

  async findProductsBySku(skus: readonly string[]): Promise<ProductSnapshot[]> {
    if (skus.length === 0) return [];
    const answer = await this.#catalog.call('POST', catalogInternalPaths.productSnapshots, { skus }, { retryable: true });
    if (answer.status !== 200) throw new Error(`catalog answered ${answer.status} to a product lookup`);
    return (answer.body as { items: ProductSnapshot[] }).items;
  }

  async upsertProduct(product: ProductUpsertV1): Promise<{ created: boolean }> {
    const { sku, ...values } = product;
    const answer = await this.#catalog.call('PUT', catalogInternalPaths.product(sku), values, { retryable: true });
    if (answer.status === 200) return answer.body as { created: boolean };
    if (answer.status === 422 || answer.status === 400) {
      const error = new Error((answer.body as { detail?: string } | undefined)?.detail ?? 'the product breaks a catalogue rule');
      error.name = 'InvalidProductError';
      throw error;
    }
    throw new Error(`catalog answered ${answer.status} to a product upsert`);
  }

  async upsertProducts(batch: ProductUpsertBatchV1): Promise<ProductUpsertOutcomeV1[]> {
    // Idempotent by its key, so a retry on another instance answers the first application's outcomes.
    const answer = await this.#catalog.call('PUT', catalogInternalPaths.productBatch(batch.key), { products: batch.products }, { retryable: true });
    if (answer.status === 200) return (answer.body as { items: ProductUpsertOutcomeV1[] }).items;
    throw new Error(`catalog answered ${answer.status} to a product batch`);
  }
}
