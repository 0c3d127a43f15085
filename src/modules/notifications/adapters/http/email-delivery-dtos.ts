import { z } from 'zod';
import type { DeliveryView } from '../../application/ports.ts';
import { deliveryFields, deliveryFieldsOf } from './webhook-dtos.ts';

export const emailDeliveryDto = z.object({
  id: z.string(),
  to: z.string().describe('The customer address the email goes to.'),
  ...deliveryFields,
}).meta({ id: 'EmailDelivery' });

export const emailDeliveryPageDto = z.object({
  items: z.array(emailDeliveryDto),
  nextCursor: z.string().nullable(),
}).meta({ id: 'EmailDeliveryPage' });

export function toEmailDeliveryDto(view: DeliveryView): z.infer<typeof emailDeliveryDto> {
  return { id: view.delivery.id, to: view.delivery.recipient, ...deliveryFieldsOf(view) };
}
