import { z } from 'zod';

/** The payment provider: simulated, or Stripe with its keys. */
export const paymentVariables = {
  PAYMENT_PROVIDER: z.enum(['simulated', 'stripe']).default('simulated')
    .describe('Payment provider adapter: `simulated` (test tokens, no network) or `stripe`.'),
  SIMULATED_PAYMENT_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(5000)
    .describe('How long the simulated provider takes to answer for `tok_slow`.'),
  STRIPE_API_KEY: z.string().min(1).optional()
    .describe('Stripe secret key (required when PAYMENT_PROVIDER=stripe).'),
  STRIPE_API_BASE_URL: z.url().optional()
    .describe('Override of the Stripe API address (tests point it at a local stub).'),
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional()
    .describe('Signing secret of Stripe webhooks sent to `/v1/payments/stripe/webhook`.'),
};
