import { z } from 'zod';
import type { CommitStockV1, ReleaseStockV1, ReserveStockV1, RestockV1 } from '../../contract.ts';

// The shapes of the commands inventory obeys, checked at the edge like HTTP bodies. Rules beyond the
// shape (positive quantities, SKU normal form) are the domain's. Unknown fields are tolerated so a
// sender can add optional ones without breaking this consumer.

const orderId = z.string().min(1).max(200);

export const reserveStockCommand: z.ZodType<ReserveStockV1> = z.object({
  orderId,
  lines: z.array(z.object({ sku: z.string().max(200), quantity: z.number() })).min(1).max(1000),
});

export const releaseStockCommand: z.ZodType<ReleaseStockV1> = z.object({ orderId, reason: z.string() });

export const commitStockCommand: z.ZodType<CommitStockV1> = z.object({ orderId });

export const restockCommand: z.ZodType<RestockV1> = z.object({ orderId, reason: z.string() });
