import { z } from 'zod';
import { exportableStatuses, exportFormats } from '../../domain/order-export.ts';

const instant = z.iso.datetime({ offset: true });

export const exportOrdersBody = z.strictObject({
  format: z.enum(exportFormats).optional().describe('`csv` (the default, with a header line) or `jsonl` (one JSON object per line). Without it, `Accept: application/x-ndjson` asks for JSON Lines.'),
  status: z.enum(exportableStatuses).optional().describe('Only orders in this status (as they are when their part is written).'),
  from: instant.optional().describe('Only orders placed at or after this instant.'),
  to: instant.optional().describe('Only orders placed before this instant.'),
  customerId: z.string().min(1).max(200).optional().describe('Only this customer\'s orders.'),
  email: z.string().min(1).max(320).optional().describe('Only orders placed with this customer email, compared without case.'),
  sku: z.string().min(1).max(64).optional().describe('Only orders with a line of this SKU.'),
}).meta({ id: 'ExportOrdersRequest', examples: [{ format: 'csv', status: 'CONFIRMED', from: '2026-12-01T00:00:00Z', sku: 'MUG-001' }] });

export const exportAcceptedDto = z.object({
  id: z.string(),
  status: z.literal('queued'),
  statusUrl: z.string(),
  fileUrl: z.string().describe('Where the file is downloaded once the job has succeeded; 409 before.'),
}).meta({ id: 'ExportAccepted' });
