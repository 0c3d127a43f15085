import { z } from 'zod';
import type { ProviderPaymentReference } from '../../application/ports.ts';
import type { ProviderReport } from '../../domain/payment.ts';

const intentEvent = z.looseObject({
  type: z.enum(['payment_intent.amount_capturable_updated', 'payment_intent.succeeded', 'payment_intent.canceled', 'payment_intent.payment_failed']),
  data: z.looseObject({
    object: z.looseObject({
      id: z.string().min(1),
      status: z.string(),
      metadata: z.looseObject({ orderId: z.string().optional() }).optional(),
      last_payment_error: z.looseObject({ code: z.string().nullish(), decline_code: z.string().nullish() }).nullish(),
    }),
  }),
});

const chargeRefundedEvent = z.looseObject({
  type: z.literal('charge.refunded'),
  data: z.looseObject({
    object: z.looseObject({
      payment_intent: z.string().min(1),
      refunded: z.boolean(),
      metadata: z.looseObject({ orderId: z.string().optional() }).optional(),
    }),
  }),
});

/**
 * What a verified Stripe event says happened to a payment, or undefined for events payments does
 * not act on (and for a partial refund, which this service never asks for).
 */
export function stripeEventReport(event: unknown): { reference: ProviderPaymentReference; report: ProviderReport } | undefined {
  const refunded = chargeRefundedEvent.safeParse(event);
  if (refunded.success) {
    const charge = refunded.data.data.object;
    if (!charge.refunded) return undefined;
    return { reference: { providerPaymentId: charge.payment_intent, orderId: charge.metadata?.orderId }, report: { state: 'refunded' } };
  }
  const parsed = intentEvent.safeParse(event);
  if (!parsed.success) return undefined;
  const intent = parsed.data.data.object;
  const reference = { providerPaymentId: intent.id, orderId: intent.metadata?.orderId };
  switch (parsed.data.type) {
    case 'payment_intent.amount_capturable_updated':
      return intent.status === 'requires_capture' ? { reference, report: { state: 'authorized', providerPaymentId: intent.id } } : undefined;
    case 'payment_intent.succeeded':
      return { reference, report: { state: 'captured' } };
    case 'payment_intent.canceled':
      return { reference, report: { state: 'voided' } };
    case 'payment_intent.payment_failed': {
      const error = intent.last_payment_error;
      const funds = error?.decline_code === 'insufficient_funds' || error?.code === 'insufficient_funds';
      return { reference, report: { state: 'declined', reason: funds ? 'insufficient-funds' : 'card-declined' } };
    }
  }
}
