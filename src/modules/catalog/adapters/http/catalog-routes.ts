import type { FastifyRequest } from 'fastify';
import type { HttpApp } from '../../../../platform/http/app.ts';
import { decodeCursor, encodeCursor } from '../../../../platform/http/cursor.ts';
import { principalOf } from '../../../../platform/http/principal.ts';
import { HttpProblem, conflict, invalidRequest, notFound, problemSchema } from '../../../../platform/http/problem.ts';
import type { CreateProduct } from '../../application/create-product.ts';
import type { GetProduct } from '../../application/get-product.ts';
import type { ListProducts } from '../../application/list-products.ts';
import type { UpdateProduct } from '../../application/update-product.ts';
import { DuplicateSkuError, InvalidProductError, ProductModifiedConcurrentlyError, ProductNotFoundError } from '../../domain/product.errors.ts';
import {
  createProductRequest, listProductsQuery, productDto, productIdParams, productPageDto, toProductDto, updateProductRequest, type AvailabilityShown,
} from './product-dtos.ts';

export interface CatalogUseCases {
  createProduct: CreateProduct;
  updateProduct: UpdateProduct;
  getProduct: GetProduct;
  listProducts: ListProducts;
}

const problems = { 400: problemSchema, 404: problemSchema, 409: problemSchema };

/**
 * The catalogue's HTTP routes: parse, call a use case, map the result or the domain error. Every
 * product answer shows its availability; the quantity only to admins.
 */
export function catalogRoutes(useCases: CatalogUseCases, options: { lowStockThreshold: number; devIdentityHeaders: boolean }) {
  const shownTo = (request: FastifyRequest): AvailabilityShown => ({
    lowStockThreshold: options.lowStockThreshold,
    withQuantity: principalOf(request, options)?.roles.includes('admin') === true,
  });
  return (app: HttpApp): void => {
    app.post('/v1/products', {
      schema: { tags: ['catalog'], summary: 'Create a product', body: createProductRequest, response: { 201: productDto, ...problems } },
    }, async (request, reply) => {
      const created = await useCases.createProduct.execute(request.body).catch(mapCatalogError);
      return reply.status(201).header('location', `/v1/products/${created.product.id}`).send(toProductDto(created, shownTo(request)));
    });

    app.patch('/v1/products/:id', {
      schema: { tags: ['catalog'], summary: 'Change a product', params: productIdParams, body: updateProductRequest, response: { 200: productDto, ...problems } },
    }, async (request) => {
      const product = await useCases.updateProduct.execute(request.params.id, request.body).catch(mapCatalogError);
      return toProductDto(product, shownTo(request));
    });

    app.get('/v1/products/:id', {
      schema: { tags: ['catalog'], summary: 'Get a product', params: productIdParams, response: { 200: productDto, ...problems } },
    }, async (request) => {
      const product = await useCases.getProduct.execute(request.params.id).catch(mapCatalogError);
      return toProductDto(product, shownTo(request));
    });

    app.get('/v1/products', {
      schema: { tags: ['catalog'], summary: 'List products', querystring: listProductsQuery, response: { 200: productPageDto, ...problems } },
    }, async (request) => {
      const { q, minPrice, maxPrice, currency, cursor, limit } = request.query;
      const page = await useCases.listProducts.execute({
        ...(q === undefined ? {} : { text: q }),
        ...(minPrice === undefined ? {} : { minPriceAmount: minPrice }),
        ...(maxPrice === undefined ? {} : { maxPriceAmount: maxPrice }),
        ...(currency === undefined ? {} : { currency }),
        ...(cursor === undefined ? {} : { after: decodeCursor(cursor) }),
        limit,
      }).catch(mapCatalogError);
      const shown = shownTo(request);
      return { items: page.items.map((product) => toProductDto(product, shown)), nextCursor: page.next === null ? null : encodeCursor(page.next) };
    });
  };
}

function mapCatalogError(error: unknown): never {
  if (error instanceof InvalidProductError) {
    throw invalidRequest(error.message, [{ location: 'body', field: error.field, message: error.message.slice(error.field.length + 1) }]);
  }
  if (error instanceof ProductNotFoundError) throw notFound(error.message);
  if (error instanceof DuplicateSkuError) throw new HttpProblem({ status: 409, slug: 'duplicate-sku', title: 'SKU already in use', detail: error.message });
  if (error instanceof ProductModifiedConcurrentlyError) throw conflict(error.message);
  throw error;
}
