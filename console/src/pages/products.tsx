import { useState } from 'react';
import { api } from '../api.ts';
import { formatCount, formatMoney, formatTime } from '../format.ts';
import { Pager } from '../pager.tsx';
import { Empty, Failure, Loading, TableScroll } from '../states.tsx';
import { useLoad } from '../use-load.ts';

interface Product {
  id: string;
  sku: string;
  name: string;
  price: { amount: number; currency: string };
  availability: { status: string; available?: number };
  updatedAt: string;
}

interface ProductPage { items: Product[]; nextCursor: string | null }

const pageSize = 20;

/** The catalogue, a page at a time (GET /v1/products). */
export function ProductsPage() {
  // The cursors of the pages seen so far, so that "Previous" goes back without the API keeping state.
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined]);
  const cursor = cursors.at(-1);
  const { loaded, reload } = useLoad(
    () => api<ProductPage>(`/v1/products?limit=${pageSize}${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`),
    cursor ?? '',
  );
  if (loaded.state === 'loading') return <Loading what="products" />;
  if (loaded.state === 'failed') return <Failure error={loaded.error} retry={reload} />;
  const { items, nextCursor } = loaded.value;
  if (items.length === 0 && cursors.length === 1) return <Empty>No products yet. Create them through the API or upload a CSV on the Imports page.</Empty>;
  return (
    <>
      <TableScroll label="Products">
        <table>
          <caption>Page {cursors.length} of the catalogue</caption>
          <thead><tr><th scope="col">SKU</th><th scope="col">Name</th><th scope="col" className="number">Price</th><th scope="col">Availability</th><th scope="col">Updated</th></tr></thead>
          <tbody>
            {items.map((product) => (
              <tr key={product.id}>
                <td><code>{product.sku}</code></td>
                <td>{product.name}</td>
                <td className="number">{formatMoney(product.price)}</td>
                <td>{product.availability.status}{product.availability.available === undefined ? '' : ` (${formatCount(product.availability.available)})`}</td>
                <td>{formatTime(product.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
      <Pager cursors={cursors} nextCursor={nextCursor} setCursors={setCursors} />
    </>
  );
}
