import { isIP } from 'node:net';
import { z } from 'zod';

/** WEBHOOK_ALLOWED_NETWORKS as a list of addresses and CIDRs (`10.0.0.0/8`, `::1`). */
function networkList(text: string, context: z.RefinementCtx): string[] {
  const networks = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  for (const network of networks) {
    const [address = '', prefix, extra] = network.split('/');
    const family = isIP(address);
    const validPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
    if (family === 0 || address.includes('%') || extra !== undefined || !validPrefix) {
      context.addIssue({ code: 'custom', message: `"${network}" is not an IP address or CIDR (e.g. 127.0.0.0/8, ::1)` });
    }
  }
  return networks;
}

/** Emails and webhooks sent to customers, with their retries and the networks webhooks may reach. */
export const notificationVariables = {
  EMAIL_TRANSPORT: z.enum(['file', 'smtp']).default('file')
    .describe('`file` writes each email as an .eml file under EMAIL_OUTBOX_DIR; `smtp` sends through SMTP_URL.'),
  EMAIL_OUTBOX_DIR: z.string().min(1).default('.data/mail-outbox')
    .describe('Folder of the `file` email transport.'),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional()
    .describe('SMTP server, e.g. smtp://user:password@mail.example.com:587 (required when EMAIL_TRANSPORT=smtp).'),
  EMAIL_FROM: z.string().min(3).default('OrderStream <orders@orderstream.local>')
    .describe('Sender of customer emails (order emails and account emails).'),
  NOTIFICATION_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6)
    .describe('Attempts of one email or webhook delivery before it is marked failed (dead letter).'),
  NOTIFICATION_RETRY_BASE_MS: z.coerce.number().int().min(1).max(600_000).default(1000)
    .describe('First retry delay of a failed email or webhook delivery; doubles each attempt, with jitter.'),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000)
    .describe('How long one webhook delivery may take before it counts as failed.'),
  WEBHOOK_ALLOWED_NETWORKS: z.string().transform(networkList).optional()
    .describe('Internal networks webhooks may go to anyway, as comma-separated addresses or CIDRs, e.g. `127.0.0.0/8,::1` for a receiver on this machine. Unset: only public addresses; loopback, private, link-local and other internal ones are refused at registration and when sending. Unsafe in production: whoever can register a webhook could reach these networks.'),
};
