import { z } from 'zod';
import type { HttpApp, RouteRegistration } from '../../../../platform/http/app.ts';
import { HttpProblem, invalidRequest, problemSchema } from '../../../../platform/http/problem.ts';
import type { ApplyWebhookEvent } from '../../application/apply-webhook-event.ts';
import { stripeEventReport } from '../providers/stripe-event-reports.ts';

export const stripeWebhookPath = '/v1/payments/stripe/webhook';

/** What this service needs of any event; the rest is kept as sent. */
const stripeEventShape = z.looseObject({ id: z.string().min(1).max(255), type: z.string().min(1).max(255) });

const receivedDto = z.object({ received: z.literal(true), duplicate: z.boolean(), applied: z.boolean() }).meta({ id: 'WebhookReceived' });

/**
 * `POST /v1/payments/stripe/webhook`: verifies the `Stripe-Signature` of the raw body against the
 * webhook signing secret, records the event and applies it to the payment it names. The signature covers the exact bytes Stripe sent,
 * so this route reads JSON as a raw buffer, in a plugin of its own so other routes keep parsing it. That plugin
 * loads the Stripe SDK when the app starts, so a process without a webhook secret never loads it.
 */
export function stripeWebhookRoutes(deps: { webhookSecret: string; applyWebhookEvent: ApplyWebhookEvent }): RouteRegistration {
  return (app: HttpApp): void => {
    void app.register(async (scoped: HttpApp) => {
      const { default: Stripe } = await import('stripe');
      scoped.removeContentTypeParser('application/json');
      scoped.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, parsed) => { parsed(null, body); });
      scoped.post(stripeWebhookPath, {
        schema: {
          tags: ['payments'], summary: 'Receive a Stripe webhook event (signed)',
          response: { 200: receivedDto, 400: problemSchema },
        },
      }, async (request) => {
        const signature = request.headers['stripe-signature'];
        if (typeof signature !== 'string' || signature === '') throw invalidSignature('The Stripe-Signature header is missing');
        if (!Buffer.isBuffer(request.body)) throw invalidSignature('The body is missing');
        let event: unknown;
        try {
          event = Stripe.webhooks.constructEvent(request.body, signature, deps.webhookSecret);
        } catch (error) {
          if (error instanceof Stripe.errors.StripeSignatureVerificationError) throw invalidSignature('The Stripe-Signature does not match the body');
          if (error instanceof SyntaxError) throw new HttpProblem({ status: 400, slug: 'malformed-json', title: 'The body is not valid JSON', detail: error.message });
          throw error;
        }
        const shape = stripeEventShape.safeParse(event);
        if (!shape.success) throw invalidRequest('The event has no id or type', [{ location: 'body', field: 'id', message: 'an event needs a string id and type' }]);
        const { id, type } = shape.data;
        const report = stripeEventReport(event);
        const result = await deps.applyWebhookEvent.execute({ provider: 'stripe', eventId: id, type, payload: event, ...(report === undefined ? {} : { report }) });
        request.log.info({ provider: 'stripe', eventId: id, eventType: type, result }, 'payment provider webhook received');
        return { received: true as const, duplicate: result === 'duplicate', applied: result === 'applied' };
      });
    });
  };
}

function invalidSignature(detail: string): HttpProblem {
  return new HttpProblem({ status: 400, slug: 'invalid-webhook-signature', title: 'The webhook signature is not valid', detail });
}
